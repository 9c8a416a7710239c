import CSecp256k1

/// Errors from key handling, signing and verification.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedPublicKey
    case malformedPrivateKey
    case malformedSignature
    case highSSignature
    case randomSourceUnavailable
    case signingFailed

    public var description: String {
        switch self {
        case .malformedPublicKey: "public key is not a valid compressed secp256k1 point"
        case .malformedPrivateKey: "private key is not a valid secp256k1 scalar"
        case .malformedSignature: "signature is not a valid 64-byte compact ECDSA signature"
        case .highSSignature: "signature is not in low-S form"
        case .randomSourceUnavailable: "the operating system's secure random source is unavailable"
        case .signingFailed: "signing failed"
        }
    }
}

/// The one libsecp256k1 context, created once. A secp256k1 context is safe to
/// share between threads for signing and verification once randomized.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()
    let pointer: OpaquePointer

    private init() {
        let flags = UInt32(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY)
        guard let context = secp256k1_context_create(flags) else {
            preconditionFailure("libsecp256k1 could not create a context")
        }
        if var seed = try? SecureRandom.bytes(32) {
            _ = secp256k1_context_randomize(context, &seed)
        }
        pointer = context
    }
}

/// Encodings of public keys found to be valid points, so that decoding the
/// same key again skips the point check. Bounded: when full it starts over.
/// Thread-safe.
final class ValidatedPublicKeys: @unchecked Sendable {
    static let shared = ValidatedPublicKeys()
    private let lock = Lock()
    private var keys = Set<[UInt8]>()

    func contains(_ bytes: [UInt8]) -> Bool { lock.withLock { keys.contains(bytes) } }

    func insert(_ bytes: [UInt8]) {
        lock.withLock {
            if keys.count >= Limits.validatedPublicKeysMax { keys.removeAll(keepingCapacity: true) }
            keys.insert(bytes)
        }
    }
}

/// A secp256k1 public key in 33-byte compressed form.
public struct PublicKey: Hashable, Comparable, Sendable, CanonicalCodable, CustomStringConvertible {
    public static let byteCount = 33
    /// The compressed SEC1 encoding.
    public let bytes: [UInt8]

    /// Parses and validates a compressed point. The same few member keys are
    /// decoded in every transaction, block and message, and validating one
    /// takes a square root in the field; keys already found valid are
    /// remembered (``ValidatedPublicKeys``), so each is checked once.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount, bytes[0] == 2 || bytes[0] == 3 else { throw .malformedPublicKey }
        if !ValidatedPublicKeys.shared.contains(bytes) {
            var parsed = secp256k1_pubkey()
            let ok = secp256k1_ec_pubkey_parse(Secp256k1Context.shared.pointer, &parsed, bytes, bytes.count)
            guard ok == 1 else { throw .malformedPublicKey }
            ValidatedPublicKeys.shared.insert(bytes)
        }
        self.bytes = bytes
    }

    /// Parses 66 hex digits.
    public init(hex: String) throws(CryptoError) {
        guard let raw = Hex.decode(hex) else { throw .malformedPublicKey }
        try self.init(bytes: raw)
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// A short form for logs.
    public var short: String { String(hex.prefix(10)) }

    /// Checks an ECDSA signature over a 32-byte message digest. High-S
    /// signatures are refused, so a signature has one valid form only.
    public func isValidSignature(_ signature: Signature, for digest: Hash) -> Bool {
        let context = Secp256k1Context.shared.pointer
        var key = secp256k1_pubkey()
        var parsedSignature = secp256k1_ecdsa_signature()
        let keyOK = secp256k1_ec_pubkey_parse(context, &key, bytes, bytes.count)
        guard keyOK == 1 else { return false }
        let sigOK = secp256k1_ecdsa_signature_parse_compact(context, &parsedSignature, signature.bytes)
        guard sigOK == 1 else { return false }
        // secp256k1_ecdsa_verify itself rejects high-S signatures.
        let verified = secp256k1_ecdsa_verify(context, &parsedSignature, digest.bytes, &key)
        return verified == 1
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(fixed: bytes)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let raw = try decoder.readFixed("public key", count: Self.byteCount)
        do {
            try self.init(bytes: raw)
        } catch {
            throw .invalidValue(field: "public key", reason: error.description)
        }
    }

    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// A 64-byte compact ECDSA signature (r ‖ s), always low-S.
public struct Signature: Hashable, Sendable, CanonicalCodable, CustomStringConvertible {
    public static let byteCount = 64
    public let bytes: [UInt8]

    /// Wraps 64 bytes after checking that they parse and are in low-S form.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.byteCount else { throw .malformedSignature }
        let context = Secp256k1Context.shared.pointer
        var parsed = secp256k1_ecdsa_signature()
        let ok = secp256k1_ecdsa_signature_parse_compact(context, &parsed, bytes)
        guard ok == 1 else { throw .malformedSignature }
        var normalized = secp256k1_ecdsa_signature()
        if secp256k1_ecdsa_signature_normalize(context, &normalized, &parsed) == 1 { throw .highSSignature }
        self.bytes = bytes
    }

    init(uncheckedBytes: [UInt8]) {
        self.bytes = uncheckedBytes
    }

    public init(hex: String) throws(CryptoError) {
        guard let raw = Hex.decode(hex) else { throw .malformedSignature }
        try self.init(bytes: raw)
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(fixed: bytes)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let raw = try decoder.readFixed("signature", count: Self.byteCount)
        do {
            try self.init(bytes: raw)
        } catch {
            throw .invalidValue(field: "signature", reason: error.description)
        }
    }
}

/// A secp256k1 private key. Never encoded into anything hashed or sent.
public struct PrivateKey: Sendable {
    private let secret: [UInt8]
    /// The matching public key.
    public let publicKey: PublicKey

    /// Wraps a 32-byte scalar, checking it is in range.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == 32 else { throw .malformedPrivateKey }
        let context = Secp256k1Context.shared.pointer
        let valid = secp256k1_ec_seckey_verify(context, bytes)
        guard valid == 1 else { throw .malformedPrivateKey }
        var key = secp256k1_pubkey()
        let created = secp256k1_ec_pubkey_create(context, &key, bytes)
        guard created == 1 else { throw .malformedPrivateKey }
        var output = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(context, &output, &length, &key, UInt32(SECP256K1_EC_COMPRESSED))
        self.secret = bytes
        self.publicKey = try PublicKey(bytes: output)
    }

    public init(hex: String) throws(CryptoError) {
        guard let raw = Hex.decode(hex) else { throw .malformedPrivateKey }
        try self.init(bytes: raw)
    }

    /// A fresh key from the operating system's secure random source.
    public static func generate() throws(CryptoError) -> PrivateKey {
        for _ in 0..<16 {
            let candidate = try SecureRandom.bytes(32)
            if let key = try? PrivateKey(bytes: candidate) { return key }
        }
        throw .randomSourceUnavailable
    }

    /// The secret scalar as hex, for writing a key file.
    public var hex: String { Hex.encode(secret) }

    /// Signs a 32-byte digest with RFC 6979 deterministic nonces; the result is low-S.
    public func sign(_ digest: Hash) -> Signature {
        let context = Secp256k1Context.shared.pointer
        var signature = secp256k1_ecdsa_signature()
        let signed = secp256k1_ecdsa_sign(context, &signature, digest.bytes, secret, nil, nil)
        precondition(signed == 1, "signing with a validated key cannot fail")
        var compact = [UInt8](repeating: 0, count: 64)
        _ = secp256k1_ecdsa_signature_serialize_compact(context, &compact, &signature)
        return Signature(uncheckedBytes: compact)
    }
}
