import Foundation

/// Why a JSON document people write by hand (a node config, a genesis or its
/// description) was refused by ``StrictJSONDecoder``. Paths are written as in
/// the document: `validators[2].address`.
public enum StrictJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The document is not JSON at all.
    case notJSON(String)
    /// Keys that no type in the format reads, each with the nearest valid spelling.
    case unknownKeys([UnknownKey])
    /// A value outside an enumeration's cases.
    case notAllowed(path: String, value: String, allowed: [String])
    /// A value missing or of the wrong type; `message` says which.
    case invalid(path: String, message: String)

    /// One key the format does not have.
    public struct UnknownKey: Equatable, Sendable, CustomStringConvertible {
        /// The key's path, ending with the key itself: `validators[2].adress`.
        public var path: String
        /// The valid key most likely meant, if one is close.
        public var suggestion: String?
        /// The keys valid where this one stands.
        public var known: [String]

        public init(path: String, suggestion: String?, known: [String]) {
            self.path = path
            self.suggestion = suggestion
            self.known = known
        }

        public var description: String {
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
            return "unknown key '\(path)'\(hint) (valid keys here: \(known.joined(separator: ", ")))"
        }
    }

    public var description: String {
        switch self {
        case .notJSON(let message): "not JSON: \(message)"
        case .unknownKeys(let keys): keys.map(\.description).joined(separator: "; ")
        case .notAllowed(let path, let value, let allowed): "\(path) is '\(value)'; allowed: \(allowed.joined(separator: ", "))"
        case .invalid(let path, let message): "\(path): \(message)"
        }
    }
}

/// Decodes `Decodable` types from JSON like `JSONDecoder`, but refuses any
/// object key the types do not read, naming its path and the nearest valid
/// spelling, and names the allowed values when a string is none of an enum's
/// cases. One mechanism for every hand-written file: the valid keys of an
/// object are the ones its type reads while decoding (every property, for
/// synthesized `Codable`), together with all its `CodingKeys` when they are
/// `CaseIterable`. A type that reads every key it finds (a dictionary,
/// ``JSONValue``) accepts any key.
public enum StrictJSONDecoder {
    /// Decodes `type` from `data`.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(StrictJSONError) -> T {
        let root: JSONTree
        do {
            root = try JSONDecoder().decode(JSONTree.self, from: data)
        } catch {
            throw .notJSON(syntaxProblem(data))
        }
        let record = KeyRecord()
        let value: T
        do {
            value = try T(from: TreeDecoder(root, path: [], record: record))
        } catch let error as NotAllowed {
            throw .notAllowed(path: error.path, value: error.value, allowed: error.allowed)
        } catch {
            let unknown = record.unknownKeys(complete: false)
            if !unknown.isEmpty { throw .unknownKeys(unknown) }
            if case DecodingError.keyNotFound(let key, let context) = error,
               let typo = record.misspelling(of: key.stringValue, at: path(context.codingPath)) {
                throw .unknownKeys([typo])
            }
            if let error = error as? DecodingError { throw describe(error) }
            throw .invalid(path: "document", message: "\(error)")
        }
        let unknown = record.unknownKeys(complete: true)
        guard unknown.isEmpty else { throw .unknownKeys(unknown) }
        return value
    }

    /// Where JSON that `JSONDecoder` refused goes wrong: `JSONSerialization` says where ("around character 8").
    private static func syntaxProblem(_ data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "the data is not valid JSON"
        } catch {
            return ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? error.localizedDescription
        }
    }

    /// A coding path as the document writes it: `organizations[0].kind`; `document` for the whole.
    public static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue, !(key is KeyName) {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "document" : text
    }

    /// The error naming the path and what was wrong there.
    public static func describe(_ error: DecodingError) -> StrictJSONError {
        switch error {
        case .keyNotFound(let key, let context): .invalid(path: path(context.codingPath + [key]), message: "missing")
        case .typeMismatch(_, let context): .invalid(path: path(context.codingPath), message: context.debugDescription)
        case .valueNotFound(_, let context): .invalid(path: path(context.codingPath), message: "missing value")
        case .dataCorrupted(let context): .invalid(path: path(context.codingPath), message: context.debugDescription)
        @unknown default: .invalid(path: "document", message: "\(error)")
        }
    }

    /// The valid key `key` most likely stands for (ignoring case): one it
    /// begins with or that begins with it (`dataDir` for `dataDirectory`),
    /// else the nearest by edit distance if that is close enough.
    public static func nearest(_ key: String, in known: [String]) -> String? {
        let lowered = key.lowercased()
        let prefixed = known.filter { candidate in
            let other = candidate.lowercased()
            return other.count >= 3 && lowered.count >= 3 && (lowered.hasPrefix(other) || other.hasPrefix(lowered))
        }
        if let best = prefixed.max(by: { $0.count < $1.count }) { return best }
        let scored = known.map { ($0, editDistance(lowered, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, min(key.count, best.0.count) / 2) ? best.0 : nil
    }

    /// Levenshtein distance: single-character insertions, deletions and substitutions.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1]
            for (j, right) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A parsed JSON value, read once by `JSONDecoder` so that numbers and strings mean what they mean there.
private enum JSONTree: Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsigned, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as written, for messages.
    var text: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .unsigned(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): value
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// An object key in a coding path; an array index is a plain ``Index``.
private struct KeyName: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct Index: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A string that is none of an enum's raw values.
private struct NotAllowed: Error {
    var path: String
    var value: String
    var allowed: [String]
}

/// Every JSON object met while decoding, by path: its keys, the keys its types read, and all their keys when those are listed.
private final class KeyRecord {
    struct Object {
        var keys: [String]
        var read: Set<String> = []
        var listed: Set<String> = []
        /// Whether some type decoding it lists all its keys (`CodingKeys: CaseIterable`).
        var isListed = false
    }

    var objects: [String: Object] = [:]

    func met(_ path: String, keys: [String], listed: [String]?) {
        var object = objects[path] ?? Object(keys: keys)
        if let listed {
            object.listed.formUnion(listed)
            object.isListed = true
        }
        objects[path] = object
    }

    func read(_ key: String, at path: String) { objects[path]?.read.insert(key) }

    /// A key of the object at `path` that no type read and that is nearest
    /// to `missing`, a key its type needs: the likely cause of the key's absence.
    func misspelling(of missing: String, at path: String) -> StrictJSONError.UnknownKey? {
        guard let object = objects[path] else { return nil }
        let valid = object.read.union(object.listed).union([missing])
        guard let typo = object.keys.sorted().first(where: { !valid.contains($0) && StrictJSONDecoder.nearest($0, in: [missing]) == missing }) else {
            return nil
        }
        return .init(path: path == "document" ? typo : path + "." + typo, suggestion: missing, known: valid.sorted())
    }

    /// Keys no type read nor listed. With `complete` false (decoding
    /// stopped midway) only objects whose keys are listed are judged, since the rest were not read to the end.
    func unknownKeys(complete: Bool) -> [StrictJSONError.UnknownKey] {
        var unknown: [StrictJSONError.UnknownKey] = []
        for (path, object) in objects.sorted(by: { $0.key < $1.key }) where complete || object.isListed {
            let valid = object.read.union(object.listed)
            let known = valid.sorted()
            for key in object.keys.sorted() where !valid.contains(key) {
                let keyPath = path == "document" ? key : path + "." + key
                unknown.append(.init(path: keyPath, suggestion: StrictJSONDecoder.nearest(key, in: known), known: known))
            }
        }
        return unknown
    }
}

/// The names of a `CaseIterable` coding key type's cases.
private func caseNames<Key: CodingKey & CaseIterable>(_ type: Key.Type) -> [String] { Key.allCases.map(\.stringValue) }

/// The raw values of a `CaseIterable` enum's cases.
private func rawValues<Value: CaseIterable & RawRepresentable>(_ type: Value.Type) -> [String] { Value.allCases.map { "\($0.rawValue)" } }

/// Decodes `T` from `tree` at `path`; a string outside an enum's cases becomes ``NotAllowed``.
private func decodeValue<T: Decodable>(_ type: T.Type, _ tree: JSONTree, path: [any CodingKey], record: KeyRecord) throws -> T {
    do {
        return try T(from: TreeDecoder(tree, path: path, record: record))
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.count == path.count {
        if let enumeration = T.self as? any (CaseIterable & RawRepresentable).Type, case .string(let value) = tree {
            throw NotAllowed(path: StrictJSONDecoder.path(path), value: value, allowed: rawValues(enumeration))
        }
        throw DecodingError.dataCorrupted(context)
    }
}

private struct TreeDecoder: Decoder {
    let tree: JSONTree
    let codingPath: [any CodingKey]
    let record: KeyRecord
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ tree: JSONTree, path: [any CodingKey], record: KeyRecord) {
        self.tree = tree
        self.codingPath = path
        self.record = record
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = tree else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected an object, found \(tree.kind)"))
        }
        let listed = (Key.self as? any (CodingKey & CaseIterable).Type).map { caseNames($0) }
        let place = StrictJSONDecoder.path(codingPath)
        record.met(place, keys: Array(members.keys), listed: listed)
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath, place: place, record: record))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = tree else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected an array, found \(tree.kind)"))
        }
        return Unkeyed(elements: elements, codingPath: codingPath, record: record)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(tree: tree, codingPath: codingPath, record: record) }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONTree]
    let codingPath: [any CodingKey]
    let place: String
    let record: KeyRecord

    var allKeys: [Key] {
        members.keys.sorted().compactMap { name in
            record.read(name, at: place)
            return Key(stringValue: name)
        }
    }

    func contains(_ key: Key) -> Bool {
        record.read(key.stringValue, at: place)
        return members[key.stringValue] != nil
    }

    private func member(_ key: Key) throws -> JSONTree {
        record.read(key.stringValue, at: place)
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return value
    }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [KeyName(key.stringValue)] }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    private func value<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try decodeValue(type, try member(key), path: path(key), record: record)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try value(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try value(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try value(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try value(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try value(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try value(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try value(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try value(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try value(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try value(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try value(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try value(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try value(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try value(type, key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(type, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(try member(key), path: path(key), record: record).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(try member(key), path: path(key), record: record).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(members["super"] ?? .null, path: codingPath + [KeyName("super")], record: record)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(try member(key), path: path(key), record: record)
    }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let elements: [JSONTree]
    let codingPath: [any CodingKey]
    let record: KeyRecord
    var currentIndex = 0

    init(elements: [JSONTree], codingPath: [any CodingKey], record: KeyRecord) {
        self.elements = elements
        self.codingPath = codingPath
        self.record = record
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONTree, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [Index(currentIndex)], debugDescription: "the array ends here"))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [Index(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    private mutating func value<T: Decodable>(_ type: T.Type) throws -> T {
        let (element, path) = try next()
        return try decodeValue(type, element, path: path, record: record)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try value(type) }
    mutating func decode(_ type: String.Type) throws -> String { try value(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try value(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try value(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try value(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try value(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try value(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try value(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try value(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try value(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try value(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try value(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try value(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try value(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (element, path) = try next()
        return try TreeDecoder(element, path: path, record: record).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (element, path) = try next()
        return try TreeDecoder(element, path: path, record: record).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (element, path) = try next()
        return TreeDecoder(element, path: path, record: record)
    }
}

private struct Single: SingleValueDecodingContainer {
    let tree: JSONTree
    let codingPath: [any CodingKey]
    let record: KeyRecord

    private func mismatch<T>(_ type: T.Type, _ expected: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(tree.kind)"))
    }

    func decodeNil() -> Bool {
        if case .null = tree { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = tree else { throw mismatch(type, "a boolean") }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = tree else { throw mismatch(type, "a string") }
        return value
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch tree {
        case .integer(let value): return Double(value)
        case .unsigned(let value): return Double(value)
        case .double(let value): return value
        default: throw mismatch(type, "a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let converted: T? = switch tree {
        case .integer(let value): T(exactly: value)
        case .unsigned(let value): T(exactly: value)
        case .double(let value): T(exactly: value)
        default: throw mismatch(type, "a whole number")
        }
        guard let converted else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(tree.text) is not a whole number from \(T.min) to \(T.max)"))
        }
        return converted
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, tree, path: codingPath, record: record) }
}
