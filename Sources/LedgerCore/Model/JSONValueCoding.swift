import Foundation

/// The bridge between typed `Codable` answers and ``JSONValue``: a contract
/// builds a query answer from its typed form with ``init(encoding:)``, and a
/// client reads the answer back into that form with ``decode(_:)``. Both go
/// through the JSON text the API carries, so a value reads back exactly as a
/// client that received it over HTTP would read it.
extension JSONValue {
    /// The JSON value `value` encodes to; fails for a value outside what a
    /// ``JSONValue`` holds (a fraction, an integer beyond `Int64`).
    public init(encoding value: some Encodable) throws(EncodingError) {
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch let error as EncodingError {
            throw error
        } catch {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(error)"))
        }
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "its JSON is not made of null, booleans, integers, strings, arrays and objects: \(error)"))
        }
    }

    /// Reads `type` from this value; the error names the field that is missing or of another type.
    public func decode<Value: Decodable>(_ type: Value.Type) throws(DecodingError) -> Value {
        let data: Data
        do {
            data = try JSONEncoder().encode(self)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the value has no JSON text: \(error)"))
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(error)"))
        }
    }
}
