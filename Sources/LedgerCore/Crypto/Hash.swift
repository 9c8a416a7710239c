/// A 32-byte SHA-256 digest: block hashes, transaction ids, state roots.
public struct Hash: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    /// The digest bytes, always 32 of them.
    public let bytes: [UInt8]

    /// The all-zero hash, used for "no parent" and the empty state tree.
    public static let zero = Hash(uncheckedBytes: [UInt8](repeating: 0, count: 32))

    init(uncheckedBytes: [UInt8]) {
        self.bytes = uncheckedBytes
    }

    /// Wraps 32 bytes; any other length is rejected.
    public init(bytes: [UInt8]) throws(CodecError) {
        guard bytes.count == 32 else {
            throw .invalidValue(field: "hash", reason: "expected 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Feeds the digest to `hasher` in one call; hashes are dictionary and set
    /// keys on every hot path (mempool, consensus pool, state cache).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Parses 64 hex digits.
    public init(hex: String) throws(CodecError) {
        guard let raw = Hex.decode(hex), raw.count == 32 else {
            throw .invalidValue(field: "hash", reason: "expected 64 hex digits")
        }
        self.bytes = raw
    }

    /// SHA-256 of `data`.
    public static func sha256(_ data: some Collection<UInt8>) -> Hash {
        Hash(uncheckedBytes: SHA256Digest.digest(Array(data)))
    }

    /// SHA-256 over a domain tag followed by `data`, so that hashes of
    /// different kinds of object can never collide by construction.
    public static func tagged(_ domain: String, _ data: [UInt8]) -> Hash {
        var input = Array(domain.utf8)
        input.append(0)
        input.append(contentsOf: data)
        return Hash(uncheckedBytes: SHA256Digest.digest(input))
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first eight hex digits, for logs.
    public var short: String { String(hex.prefix(8)) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(fixed: bytes)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        self.bytes = try decoder.readFixed("hash", count: 32)
    }

    public static func < (lhs: Hash, rhs: Hash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Lower-case hexadecimal text.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case); nil if it has an odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
