import Testing
@testable import LedgerCore

@Suite struct CryptoTests {
    /// FIPS 180-2 / NIST CSRC example values for SHA-256.
    @Test func sha256_matchesNISTVectors() {
        #expect(Hash.sha256(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hash.sha256([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Hash.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Hash.sha256([UInt8](repeating: 0x61, count: 1_000_000)).hex
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// RFC 4231 test case 2 for HMAC-SHA-256.
    @Test func hmacSHA256_matchesRFC4231() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// Multiples of the generator G, as published in common secp256k1 test vector lists.
    @Test func publicKey_fromSmallScalars_matchesKnownPoints() throws {
        func key(_ last: UInt8) throws -> PrivateKey { try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [last]) }
        #expect(try key(1).publicKey.hex == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
        #expect(try key(2).publicKey.hex == "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
        #expect(try key(3).publicKey.hex == "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9")
    }

    /// RFC 6979 deterministic signature vector for secp256k1 (private key 1,
    /// message "Satoshi Nakamoto"), from the fixtures widely used by Bitcoin libraries.
    @Test func sign_deterministicNonce_matchesPublishedVector() throws {
        let key = try PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1])
        let signature = key.sign(Hash.sha256(Array("Satoshi Nakamoto".utf8)))
        #expect(signature.hex == "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
                + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")
        #expect(key.publicKey.isValidSignature(signature, for: Hash.sha256(Array("Satoshi Nakamoto".utf8))))
    }

    @Test func signature_overOtherBytes_isRejected() throws {
        let key = try PrivateKey.generate()
        let signature = key.sign(Hash.sha256([1, 2, 3]))
        #expect(key.publicKey.isValidSignature(signature, for: Hash.sha256([1, 2, 3])))
        #expect(!key.publicKey.isValidSignature(signature, for: Hash.sha256([1, 2, 4])))
        let other = try PrivateKey.generate()
        #expect(!other.publicKey.isValidSignature(signature, for: Hash.sha256([1, 2, 3])))
    }

    @Test func signature_inHighSForm_isRejected() throws {
        let key = try PrivateKey.generate()
        let digest = Hash.sha256([9])
        let low = key.sign(digest)
        let order: [UInt8] = Hex.decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141") ?? []
        let s = Array(low.bytes[32...])
        let highS = subtract(order, s)
        let high = Array(low.bytes[..<32]) + highS
        #expect(throws: CryptoError.highSSignature) { try Signature(bytes: high) }
        #expect(!key.publicKey.isValidSignature(Signature(uncheckedBytes: high), for: digest))
    }

    @Test func publicKeys_decodedAgain_stayChecked_andAnInvalidOneIsNeverRemembered() throws {
        let valid = try PrivateKey.generate().publicKey
        #expect(try PublicKey(bytes: valid.bytes) == valid)
        #expect(try PublicKey(bytes: valid.bytes) == valid, "a remembered key decodes again")
        // x = 2^256 − 1 is above the field prime, so no point has it: refused every time, never remembered.
        let notAPoint = [UInt8](repeating: 0xFF, count: 32)
        for _ in 0..<2 {
            #expect(throws: CryptoError.malformedPublicKey) { try PublicKey(bytes: [2] + notAPoint) }
        }
        #expect(!ValidatedPublicKeys.shared.contains([2] + notAPoint))
        #expect(ValidatedPublicKeys.shared.contains(valid.bytes))
    }

    @Test func malformedKeysAndSignatures_areRejected() {
        #expect(throws: CryptoError.malformedPublicKey) { try PublicKey(bytes: [2] + [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: CryptoError.malformedPublicKey) { try PublicKey(bytes: [4] + [UInt8](repeating: 1, count: 32)) }
        #expect(throws: CryptoError.malformedPublicKey) { try PublicKey(hex: "zz") }
        #expect(throws: CryptoError.malformedPrivateKey) { try PrivateKey(bytes: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: CryptoError.malformedPrivateKey) { try PrivateKey(bytes: [UInt8](repeating: 0xFF, count: 32)) }
        #expect(throws: CryptoError.malformedSignature) { try Signature(bytes: [1, 2, 3]) }
        #expect(throws: CryptoError.malformedSignature) { try Signature(bytes: [UInt8](repeating: 0xFF, count: 64)) }
    }

    @Test func generatedKeys_areDistinct() throws {
        let keys = try (0..<20).map { _ in try PrivateKey.generate().publicKey }
        #expect(Set(keys).count == 20)
    }

    private func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var difference = Int(a[index]) - Int(b[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 256 }
            result[index] = UInt8(difference)
        }
        return result
    }
}
