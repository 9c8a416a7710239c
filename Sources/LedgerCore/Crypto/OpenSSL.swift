import COpenSSL

/// SHA-256, HMAC-SHA-256 and secure random bytes from OpenSSL's libcrypto.
/// The only file that touches OpenSSL; its pointers stay here.
enum SHA256Digest {
    static func digest(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return out
    }
}

/// Keyed hashing for identifiers that must not appear in the clear.
public enum HMACSHA256 {
    /// HMAC-SHA-256 of `data` under `key`.
    public static func mac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBufferPointer { keyBuffer in
            data.withUnsafeBufferPointer { dataBuffer in
                out.withUnsafeMutableBufferPointer { output in
                    _ = HMAC(EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                             dataBuffer.baseAddress, dataBuffer.count, output.baseAddress, &length)
                }
            }
        }
        return out
    }
}

/// Cryptographically secure random bytes from the operating system via OpenSSL.
public enum SecureRandom {
    /// Fills `count` bytes; fails only if the OS's random source is unavailable.
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBufferPointer { buffer in
            RAND_bytes(buffer.baseAddress, Int32(buffer.count))
        }
        guard status == 1 else { throw .randomSourceUnavailable }
        return out
    }
}
