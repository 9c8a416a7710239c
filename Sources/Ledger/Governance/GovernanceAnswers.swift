import LedgerCore

/// One organization as the governance `organization`, `organizations` and
/// `member` queries answer it: `id`, `name`, `kind`, `status` and the hex
/// `memberKeys`.
public struct OrganizationAnswer: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var kind: OrganizationKind
    public var status: OrganizationStatus
    public var memberKeys: [PublicKey]

    public init(id: String, name: String, kind: OrganizationKind, status: OrganizationStatus, memberKeys: [PublicKey]) {
        self.id = id
        self.name = name
        self.kind = kind
        self.status = status
        self.memberKeys = memberKeys
    }

    /// The answer for an organization record.
    public init(_ organization: Organization) {
        self.init(id: organization.id, name: organization.name, kind: organization.kind, status: organization.status,
                  memberKeys: organization.memberKeys)
    }
}
