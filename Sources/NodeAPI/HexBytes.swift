import LedgerCore

/// Bytes the API carries as lower-case hex text: canonical encodings,
/// contract arguments, proofs and state values.
public struct HexBytes: Codable, Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Hex.decode(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected hex digits (an even number of 0-9, a-f)")
        }
        self.bytes = bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
