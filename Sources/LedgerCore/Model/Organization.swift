/// The role an organization plays in the consortium; each contract operation
/// names the kinds allowed to call it.
public enum OrganizationKind: String, CaseIterable, Codable, Sendable, CanonicalCodable {
    case bank
    case coreEnterprise = "core_enterprise"
    case enterprise
    case auditor
    case regulator
    case clearingHouse = "clearing_house"

    var tag: UInt64 {
        switch self {
        case .bank: 0
        case .coreEnterprise: 1
        case .enterprise: 2
        case .auditor: 3
        case .regulator: 4
        case .clearingHouse: 5
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("organization kind")
        guard let kind = Self.allCases.first(where: { $0.tag == tag }) else {
            throw .unknownTag(field: "organization kind", tag: tag)
        }
        self = kind
    }
}

/// Whether an organization may currently transact.
public enum OrganizationStatus: String, CaseIterable, Codable, Sendable, CanonicalCodable {
    case active
    case suspended

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(self == .active ? UInt64(0) : 1) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.readTag("organization status") {
        case 0: self = .active
        case 1: self = .suspended
        case let tag: throw .unknownTag(field: "organization status", tag: tag)
        }
    }
}

/// A member of the consortium and the keys that sign for it.
public struct Organization: Equatable, Sendable, CanonicalCodable {
    public var id: String
    public var name: String
    public var kind: OrganizationKind
    public var memberKeys: [PublicKey]
    public var status: OrganizationStatus

    public init(id: String, name: String, kind: OrganizationKind, memberKeys: [PublicKey], status: OrganizationStatus = .active) {
        self.id = id
        self.name = name
        self.kind = kind
        self.memberKeys = memberKeys
        self.status = status
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(name)
        encoder.write(kind)
        encoder.write(memberKeys)
        encoder.write(status)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readString("organization id", limit: Limits.identifierBytesMax)
        name = try decoder.readString("organization name", limit: Limits.nameBytesMax)
        kind = try decoder.read(OrganizationKind.self, "organization kind")
        memberKeys = try decoder.readArray(PublicKey.self, "member keys", limit: Limits.memberKeysMax)
        status = try decoder.read(OrganizationStatus.self, "organization status")
    }
}
