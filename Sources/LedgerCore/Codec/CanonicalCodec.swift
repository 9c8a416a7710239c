/// The one binary encoding used for everything that is hashed or signed.
///
/// Rules (the decoder enforces every one of them, so that a value has exactly
/// one valid encoding):
/// - unsigned integers are LEB128 varints in their shortest form;
/// - signed integers are zig-zag mapped, then encoded as unsigned;
/// - booleans are one byte, `0` or `1`;
/// - byte strings, UTF-8 strings and arrays carry a varint length or count,
///   checked against a per-field limit before anything is allocated;
/// - fixed-size values (hashes, keys, signatures) are raw bytes, no prefix;
/// - optionals are a presence byte (`0` absent, `1` present) then the value;
/// - enums are a varint tag; unknown tags are rejected;
/// - a top-level decode must consume every byte.
public struct CanonicalEncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(remaining & 0x7F) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    public mutating func write(_ value: UInt32) { write(UInt64(value)) }
    public mutating func write(_ value: UInt16) { write(UInt64(value)) }
    public mutating func write(_ value: UInt8) { write(UInt64(value)) }

    /// Zig-zag: 0, -1, 1, -2, … map to 0, 1, 2, 3, …
    public mutating func write(_ value: Int64) {
        let mapped = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        write(mapped)
    }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Length-prefixed bytes.
    public mutating func write(bytes value: some Collection<UInt8>) {
        write(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Raw bytes of a size both sides know (no prefix).
    public mutating func write(fixed value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    public mutating func write(_ value: String) {
        write(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    public mutating func write<T: CanonicalEncodable>(_ value: T) {
        value.encode(to: &self)
    }

    public mutating func write<T: CanonicalEncodable>(_ value: T?) {
        if let value {
            bytes.append(1)
            value.encode(to: &self)
        } else {
            bytes.append(0)
        }
    }

    public mutating func write<T: CanonicalEncodable>(_ values: [T]) {
        write(UInt64(values.count))
        for value in values { value.encode(to: &self) }
    }

    public mutating func write(_ values: [String]) {
        write(UInt64(values.count))
        for value in values { write(value) }
    }

    public mutating func write(optional value: String?) {
        if let value {
            bytes.append(1)
            write(value)
        } else {
            bytes.append(0)
        }
    }

    public mutating func write(optional value: UInt64?) {
        if let value {
            bytes.append(1)
            write(value)
        } else {
            bytes.append(0)
        }
    }
}

/// Strict reader for ``CanonicalEncoder``'s format. Every read names the
/// field it is reading so that errors say what was wrong.
public struct CanonicalDecoder {
    private let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var position: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - position }

    public mutating func readUInt64(_ field: String) throws(CodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        while true {
            guard position < bytes.count else { throw .truncated(field: field) }
            let byte = bytes[position]
            position += 1
            count += 1
            if count == 10 && byte > 1 { throw .integerOverflow(field: field) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if count > 1 && byte == 0 { throw .nonMinimalInteger(field: field) }
                return result
            }
            shift += 7
            if count >= 10 { throw .integerOverflow(field: field) }
        }
    }

    public mutating func readUInt32(_ field: String) throws(CodecError) -> UInt32 {
        let value = try readUInt64(field)
        guard let narrowed = UInt32(exactly: value) else { throw .integerOverflow(field: field) }
        return narrowed
    }

    public mutating func readUInt16(_ field: String) throws(CodecError) -> UInt16 {
        let value = try readUInt64(field)
        guard let narrowed = UInt16(exactly: value) else { throw .integerOverflow(field: field) }
        return narrowed
    }

    public mutating func readUInt8(_ field: String) throws(CodecError) -> UInt8 {
        let value = try readUInt64(field)
        guard let narrowed = UInt8(exactly: value) else { throw .integerOverflow(field: field) }
        return narrowed
    }

    public mutating func readInt64(_ field: String) throws(CodecError) -> Int64 {
        let mapped = try readUInt64(field)
        return Int64(bitPattern: (mapped >> 1) ^ (0 &- (mapped & 1)))
    }

    public mutating func readBool(_ field: String) throws(CodecError) -> Bool {
        guard position < bytes.count else { throw .truncated(field: field) }
        let byte = bytes[position]
        position += 1
        switch byte {
        case 0: return false
        case 1: return true
        default: throw .invalidBoolean(field: field, byte: byte)
        }
    }

    /// Reads a length or count and checks it against `limit`.
    public mutating func readLength(_ field: String, limit: Int) throws(CodecError) -> Int {
        let length = try readUInt64(field)
        guard length <= UInt64(limit) else {
            throw .lengthExceedsLimit(field: field, length: length, limit: limit)
        }
        return Int(length)
    }

    public mutating func readBytes(_ field: String, limit: Int) throws(CodecError) -> [UInt8] {
        let length = try readLength(field, limit: limit)
        return try readFixed(field, count: length)
    }

    public mutating func readFixed(_ field: String, count: Int) throws(CodecError) -> [UInt8] {
        guard count <= remaining else { throw .truncated(field: field) }
        let slice = Array(bytes[position..<(position + count)])
        position += count
        return slice
    }

    public mutating func readString(_ field: String, limit: Int) throws(CodecError) -> String {
        let length = try readLength(field, limit: limit)
        guard length <= remaining else { throw .truncated(field: field) }
        let end = position + length
        guard let text = String(validating: bytes[position..<end], as: UTF8.self) else {
            throw .invalidUTF8(field: field)
        }
        position = end
        return text
    }

    public mutating func readOptionalString(_ field: String, limit: Int) throws(CodecError) -> String? {
        guard try readPresence(field) else { return nil }
        return try readString(field, limit: limit)
    }

    public mutating func readOptionalUInt64(_ field: String) throws(CodecError) -> UInt64? {
        guard try readPresence(field) else { return nil }
        return try readUInt64(field)
    }

    public mutating func readStrings(_ field: String, countLimit: Int, lengthLimit: Int) throws(CodecError) -> [String] {
        let count = try readLength(field, limit: countLimit)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readString(field, limit: lengthLimit)) }
        return values
    }

    public mutating func read<T: CanonicalDecodable>(_ type: T.Type, _ field: String) throws(CodecError) -> T {
        try T(from: &self)
    }

    public mutating func readOptional<T: CanonicalDecodable>(_ type: T.Type, _ field: String) throws(CodecError) -> T? {
        guard try readPresence(field) else { return nil }
        return try T(from: &self)
    }

    public mutating func readArray<T: CanonicalDecodable>(_ type: T.Type, _ field: String, limit: Int) throws(CodecError) -> [T] {
        let count = try readLength(field, limit: limit)
        var values: [T] = []
        values.reserveCapacity(Swift.min(count, 4096))
        for _ in 0..<count { values.append(try T(from: &self)) }
        return values
    }

    /// Reads an enum tag; the caller rejects tags it does not know with
    /// ``CodecError/unknownTag(field:tag:)``.
    public mutating func readTag(_ field: String) throws(CodecError) -> UInt64 {
        try readUInt64(field)
    }

    /// Reads a case of an enum encoded as its position in `allCases`; a tag
    /// past the last case is rejected naming `field`.
    public mutating func readCase<T: CaseIterable>(_ type: T.Type, _ field: String) throws(CodecError) -> T {
        let tag = try readTag(field)
        let cases = T.allCases
        guard tag < UInt64(cases.count) else { throw .unknownTag(field: field, tag: tag) }
        return cases[cases.index(cases.startIndex, offsetBy: Int(tag))]
    }

    private mutating func readPresence(_ field: String) throws(CodecError) -> Bool {
        guard position < bytes.count else { throw .truncated(field: field) }
        let byte = bytes[position]
        position += 1
        switch byte {
        case 0: return false
        case 1: return true
        default: throw .invalidOptionalMarker(field: field, byte: byte)
        }
    }

    /// Fails unless every byte has been read.
    public func finish(_ what: String) throws(CodecError) {
        guard remaining == 0 else { throw .trailingBytes(what: what, count: remaining) }
    }
}

/// What was wrong with bytes that failed to decode.
public enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(field: String)
    case nonMinimalInteger(field: String)
    case integerOverflow(field: String)
    case invalidBoolean(field: String, byte: UInt8)
    case invalidOptionalMarker(field: String, byte: UInt8)
    case lengthExceedsLimit(field: String, length: UInt64, limit: Int)
    case invalidUTF8(field: String)
    case unknownTag(field: String, tag: UInt64)
    case invalidValue(field: String, reason: String)
    case trailingBytes(what: String, count: Int)

    public var description: String {
        switch self {
        case .truncated(let field): "input ends inside field '\(field)'"
        case .nonMinimalInteger(let field): "field '\(field)' uses a non-minimal integer encoding"
        case .integerOverflow(let field): "field '\(field)' holds an integer too large for its type"
        case .invalidBoolean(let field, let byte): "field '\(field)' has boolean byte \(byte), expected 0 or 1"
        case .invalidOptionalMarker(let field, let byte): "field '\(field)' has presence byte \(byte), expected 0 or 1"
        case .lengthExceedsLimit(let field, let length, let limit): "field '\(field)' has length \(length), above the limit of \(limit)"
        case .invalidUTF8(let field): "field '\(field)' is not valid UTF-8"
        case .unknownTag(let field, let tag): "field '\(field)' has unknown tag \(tag)"
        case .invalidValue(let field, let reason): "field '\(field)' is invalid: \(reason)"
        case .trailingBytes(let what, let count): "\(count) unexpected byte(s) after the end of \(what)"
        }
    }
}

/// A value with a canonical binary form.
public protocol CanonicalEncodable {
    func encode(to encoder: inout CanonicalEncoder)
}

/// A value that can be strictly decoded from its canonical binary form.
public protocol CanonicalDecodable {
    init(from decoder: inout CanonicalDecoder) throws(CodecError)
}

public typealias CanonicalCodable = CanonicalEncodable & CanonicalDecodable

extension CanonicalEncodable {
    /// The canonical bytes of this value.
    public var canonicalBytes: [UInt8] {
        var encoder = CanonicalEncoder()
        encode(to: &encoder)
        return encoder.bytes
    }
}

extension CanonicalDecodable {
    /// Decodes a whole buffer, rejecting trailing bytes.
    public init(canonicalBytes bytes: [UInt8]) throws(CodecError) {
        var decoder = CanonicalDecoder(bytes)
        self = try Self(from: &decoder)
        guard decoder.remaining == 0 else { throw .trailingBytes(what: String(describing: Self.self), count: decoder.remaining) }
    }
}
