import Foundation

/// The one JSON configuration of the API. The server writes its answers and
/// clients their requests with ``encode(_:)`` (compact, keys sorted so the
/// output is stable); both sides read with ``decode(_:from:)``.
public enum APICoding {
    private static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Compact JSON bytes, as the server sends them.
    public static func encode(_ value: some Encodable) throws(EncodingError) -> [UInt8] {
        Array(try encodeData(value, pretty: false))
    }

    /// Compact JSON text, for one line of the event stream.
    public static func text(_ value: some Encodable) throws(EncodingError) -> String {
        String(decoding: try encodeData(value, pretty: false), as: UTF8.self)
    }

    /// Indented JSON text with sorted keys, for people (the CLI's `--json`).
    public static func prettyText(_ value: some Encodable) throws(EncodingError) -> String {
        String(decoding: try encodeData(value, pretty: true), as: UTF8.self)
    }

    private static func encodeData(_ value: some Encodable, pretty: Bool) throws(EncodingError) -> Data {
        do {
            return try encoder(pretty: pretty).encode(value)
        } catch let error as EncodingError {
            throw error
        } catch {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(error)"))
        }
    }

    /// Reads `type` from JSON bytes; the error names the field that is missing or wrong (see ``describe(_:)``).
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: some Collection<UInt8>) throws(DecodingError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(error)"))
        }
    }

    /// What is wrong with a JSON document, naming the field by its path
    /// (`validators[0].nodeKey`): missing, null, of another type, or with a bad value.
    public static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "field '\(path(context.codingPath + [key]))' is missing"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' is null, expected \(typeName(type))"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' is not \(typeName(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not JSON of the expected shape: \(context.debugDescription)" }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `a.b[2].c`; the document itself is `(top level)`.
    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out.isEmpty ? "(top level)" : out
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type: "an integer"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "\(type)"
        }
    }
}
