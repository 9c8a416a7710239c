import Ledger
import LedgerCore

/// Who a blacklist entry is about.
///
/// A company is named by its unified social credit code (统一社会信用代码,
/// GB 32100-2015), in the clear, with its check digit verified. A person is
/// named only by an HMAC-SHA-256 of their identifier under a key the
/// consortium members share and never put on the ledger: the raw identifier
/// is hashed on the client with ``personHash(identifier:consortiumKey:)`` and
/// never leaves the member's machine.
///
/// The public constructors refuse anything malformed, so client code cannot
/// build a subject that carries a raw identifier. Decoding is lenient (within
/// size limits) so that the contract can refuse a bad subject with a clear
/// rejection code rather than a generic decoding error.
public struct BlacklistSubject: Hashable, Sendable, CanonicalCodable, CustomStringConvertible {
    /// The two kinds of subject.
    public enum Kind: String, Sendable, CaseIterable {
        case company
        case person
    }

    /// Company or person.
    public let kind: Kind
    /// The credit code's UTF-8 bytes for a company; the 32-byte keyed hash for a person.
    let value: [UInt8]

    /// Bytes of a person hash: the output size of HMAC-SHA-256.
    public static let personHashBytes = 32
    /// Length of a unified social credit code.
    public static let creditCodeLength = 18
    /// The shortest consortium key accepted for hashing person identifiers.
    public static let consortiumKeyBytesMin = 16
    /// Domain tag put before every hashed identifier, so that the same key
    /// used for something else can never yield the same hash.
    static let personHashDomain = Array("consort/blacklist/person/v1".utf8) + [0]

    init(kind: Kind, value: [UInt8]) {
        self.kind = kind
        self.value = value
    }

    /// A company subject from its unified social credit code. Surrounding
    /// spaces are removed and letters upper-cased before the code and its
    /// check digit are verified.
    public static func company(creditCode: String) throws(BlacklistSubjectError) -> BlacklistSubject {
        let normalized = String(creditCode.blacklistTrimmed().uppercased())
        if let problem = BlacklistCreditCode.problem(normalized) { throw BlacklistSubjectError(.invalidCreditCode, problem) }
        return BlacklistSubject(kind: .company, value: Array(normalized.utf8))
    }

    /// A person subject from a hash already computed with ``personHash(identifier:consortiumKey:)``.
    public static func person(hash: [UInt8]) throws(BlacklistSubjectError) -> BlacklistSubject {
        if let problem = personHashProblem(hash) { throw BlacklistSubjectError(.personNotHashed, problem) }
        return BlacklistSubject(kind: .person, value: hash)
    }

    /// A person subject from the raw identifier, hashed here on the client.
    public static func person(identifier: String, consortiumKey: [UInt8]) throws(BlacklistSubjectError) -> BlacklistSubject {
        try person(hash: personHash(identifier: identifier, consortiumKey: consortiumKey))
    }

    /// The keyed hash that stands for a person on the ledger:
    /// HMAC-SHA-256 under `consortiumKey` of a domain tag followed by the
    /// identifier with surrounding spaces removed and ASCII letters
    /// upper-cased (so `11010519491231002x` and `11010519491231002X` agree).
    /// Run it on the member's machine; only its output may be sent.
    public static func personHash(identifier: String, consortiumKey: [UInt8]) throws(BlacklistSubjectError) -> [UInt8] {
        guard consortiumKey.count >= consortiumKeyBytesMin else {
            throw BlacklistSubjectError(.weakConsortiumKey, "the consortium key has \(consortiumKey.count) bytes; at least \(consortiumKeyBytesMin) are required")
        }
        let normalized = identifier.blacklistTrimmed().uppercased()
        guard !normalized.isEmpty else { throw BlacklistSubjectError(.emptyIdentifier, "the person identifier is empty") }
        return HMACSHA256.mac(key: consortiumKey, data: personHashDomain + Array(normalized.utf8))
    }

    /// Parses the text form `company:<credit code>` or `person:<64 hex digits>`.
    public init(text: String) throws(BlacklistSubjectError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw BlacklistSubjectError(.badText, "subject '\(text.prefix(80))' must be company:<credit code> or person:<64 hex digits>")
        }
        let prefix = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch prefix {
        case "company":
            self = try Self.company(creditCode: rest)
        case "person":
            guard let hash = Hex.decode(rest) else {
                throw BlacklistSubjectError(.personNotHashed, "a person subject must be 64 hex digits of its keyed hash")
            }
            self = try Self.person(hash: hash)
        default:
            throw BlacklistSubjectError(.badText, "subject kind '\(prefix.prefix(40))' is not company or person")
        }
    }

    /// The credit code of a company subject.
    public var creditCode: String? { kind == .company ? String(decoding: value, as: UTF8.self) : nil }
    /// The keyed hash of a person subject.
    public var personHash: [UInt8]? { kind == .person ? value : nil }

    /// The text form used in state keys, events and queries:
    /// `company:<credit code>` or `person:<hex of the hash>`.
    public var text: String {
        switch kind {
        case .company: "company:" + String(decoding: value, as: UTF8.self)
        case .person: "person:" + Hex.encode(value)
        }
    }

    public var description: String { text }

    /// Why the contract must refuse this subject, or nil if it is well formed.
    var rejection: Rejection? {
        switch kind {
        case .company:
            guard let text = String(validating: value, as: UTF8.self) else {
                return Rejection(code: "invalid_credit_code", message: "the credit code is not valid UTF-8")
            }
            return BlacklistCreditCode.problem(text).map { Rejection(code: "invalid_credit_code", message: $0) }
        case .person:
            return Self.personHashProblem(value).map { Rejection(code: "person_not_hashed", message: $0) }
        }
    }

    /// A person value is accepted only as a 32-byte keyed hash. A value made
    /// entirely of printable ASCII is text, not a hash (a real HMAC output is
    /// all printable with probability below 2⁻⁴⁵), so it is refused too.
    static func personHashProblem(_ value: [UInt8]) -> String? {
        guard value.count == personHashBytes else {
            return "a person subject must be the \(personHashBytes)-byte HMAC-SHA-256 of the identifier, got \(value.count) bytes; hash the identifier on the client, never send it"
        }
        if value.allSatisfy({ (0x20...0x7E).contains($0) }) {
            return "the person subject is printable text, not a keyed hash; hash the identifier on the client, never send it"
        }
        return nil
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch kind {
        case .company: encoder.write(UInt64(0))
        case .person: encoder.write(UInt64(1))
        }
        encoder.write(bytes: value)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("subject kind") {
        case 0: kind = .company
        case 1: kind = .person
        case let tag: throw .unknownTag(field: "subject kind", tag: tag)
        }
        value = try decoder.readBytes("subject value", limit: BlacklistLimits.subjectValueBytesMax)
    }
}

/// Why a subject could not be built on the client.
public struct BlacklistSubjectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of problem it was.
    public enum Code: String, Sendable {
        case invalidCreditCode = "invalid_credit_code"
        case personNotHashed = "person_not_hashed"
        case weakConsortiumKey = "weak_consortium_key"
        case emptyIdentifier = "empty_identifier"
        case badText = "bad_subject"
    }

    /// Which problem it was.
    public var code: Code
    /// A sentence for people.
    public var message: String

    /// An error with its code and sentence.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The unified social credit code of GB 32100-2015: 18 characters from a
/// 31-character alphabet (digits and capitals without I, O, S, V, Z); the
/// last is a check character over the first 17 with weights 3ⁱ mod 31.
package enum BlacklistCreditCode {
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY".utf8)
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    static func value(of character: UInt8) -> Int? {
        alphabet.firstIndex(of: character)
    }

    /// The check character for the first 17 characters, or nil if one of them is outside the alphabet.
    package static func checkCharacter(_ body: [UInt8]) -> UInt8? {
        guard body.count == 17 else { return nil }
        var sum = 0
        for (position, character) in body.enumerated() {
            guard let value = value(of: character) else { return nil }
            sum += value * weights[position]
        }
        let check = (31 - sum % 31) % 31
        return alphabet[check]
    }

    /// What is wrong with `code`, or nil if it is a valid credit code.
    static func problem(_ code: String) -> String? {
        let bytes = Array(code.utf8)
        let shown = String(code.prefix(40))
        guard bytes.count == BlacklistSubject.creditCodeLength else {
            return "credit code '\(shown)' has \(bytes.count) characters, expected \(BlacklistSubject.creditCodeLength)"
        }
        for (position, character) in bytes.enumerated() where value(of: character) == nil {
            return "credit code '\(shown)' has '\(String(decoding: [character], as: UTF8.self))' at position \(position + 1), which is not in the GB 32100-2015 alphabet"
        }
        guard let expected = checkCharacter(Array(bytes.prefix(17))), expected == bytes[17] else {
            return "credit code '\(shown)' fails its check digit (GB 32100-2015)"
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    func blacklistTrimmed() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
