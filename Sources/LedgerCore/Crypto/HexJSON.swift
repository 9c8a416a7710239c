/// Hashes, public keys and signatures travel in JSON (the node's API, its
/// clients) as lower-case hex text; decoding checks the length and, for keys
/// and signatures, that the bytes are a valid point or low-S signature.
extension Hash: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a SHA-256 hash as 64 hex digits, got \(quotedPrefix(text))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension PublicKey: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a compressed secp256k1 public key as 66 hex digits, got \(quotedPrefix(text))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension Signature: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a low-S compact secp256k1 signature as 128 hex digits, got \(quotedPrefix(text))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// The start of a rejected text, quoted, short enough for an error message.
private func quotedPrefix(_ text: String) -> String {
    text.count <= 80 ? "'\(text)'" : "'\(text.prefix(80))…' (\(text.count) characters)"
}
