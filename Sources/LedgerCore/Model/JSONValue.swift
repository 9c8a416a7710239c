/// A JSON value, used where a document's shape belongs to someone else
/// (contract sections of the genesis file, query results).
public enum JSONValue: Equatable, Sendable, Codable, CanonicalCodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "only null, booleans, integers, strings, arrays and objects are allowed")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Canonical form: objects are written with their keys sorted.
    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .null: encoder.write(UInt64(0))
        case .bool(let value):
            encoder.write(UInt64(1))
            encoder.write(value)
        case .integer(let value):
            encoder.write(UInt64(2))
            encoder.write(value)
        case .string(let value):
            encoder.write(UInt64(3))
            encoder.write(value)
        case .array(let values):
            encoder.write(UInt64(4))
            encoder.write(values)
        case .object(let members):
            encoder.write(UInt64(5))
            encoder.write(UInt64(members.count))
            for key in members.keys.sorted() {
                encoder.write(key)
                encoder.write(members[key] ?? .null)
            }
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        try self.init(from: &decoder, depth: 0)
    }

    private init(from decoder: inout CanonicalDecoder, depth: Int) throws(CodecError) {
        guard depth < 32 else { throw .invalidValue(field: "json", reason: "nested deeper than 32 levels") }
        switch try decoder.readTag("json kind") {
        case 0: self = .null
        case 1: self = .bool(try decoder.readBool("json bool"))
        case 2: self = .integer(try decoder.readInt64("json integer"))
        case 3: self = .string(try decoder.readString("json string", limit: Limits.textBytesMax))
        case 4:
            let count = try decoder.readLength("json array", limit: 100_000)
            var values: [JSONValue] = []
            for _ in 0..<count { values.append(try JSONValue(from: &decoder, depth: depth + 1)) }
            self = .array(values)
        case 5:
            let count = try decoder.readLength("json object", limit: 100_000)
            var members: [String: JSONValue] = [:]
            var previous: String?
            for _ in 0..<count {
                let key = try decoder.readString("json key", limit: Limits.nameBytesMax)
                if let previous, !(previous < key) {
                    throw .invalidValue(field: "json object", reason: "keys not in strictly increasing order")
                }
                previous = key
                members[key] = try JSONValue(from: &decoder, depth: depth + 1)
            }
            self = .object(members)
        case let tag: throw .unknownTag(field: "json kind", tag: tag)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    public var intValue: Int64? { if case .integer(let value) = self { value } else { nil } }
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}
