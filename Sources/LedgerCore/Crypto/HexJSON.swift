/// Hashes, public keys and signatures travel in JSON (the node's API, its
/// clients) as lower-case hex text; decoding checks the length and, for keys
/// and signatures, that the bytes are a valid point or low-S signature.
public protocol HexCodable: Codable {
    /// Parses the value from its hex text, checking what the type requires.
    init(hex: String) throws
    /// The value as lower-case hex text.
    var hex: String { get }
    /// What the hex text must be, for the error when it is not.
    static var expectedHex: String { get }
}

extension HexCodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected \(Self.expectedHex), got \(quotedPrefix(text))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension Hash: HexCodable {
    public static var expectedHex: String { "a SHA-256 hash as 64 hex digits" }
}

extension PublicKey: HexCodable {
    public static var expectedHex: String { "a compressed secp256k1 public key as 66 hex digits" }
}

extension Signature: HexCodable {
    public static var expectedHex: String { "a low-S compact secp256k1 signature as 128 hex digits" }
}

/// The start of a rejected text, quoted, short enough for an error message.
private func quotedPrefix(_ text: String) -> String {
    text.count <= 80 ? "'\(text)'" : "'\(text.prefix(80))…' (\(text.count) characters)"
}
