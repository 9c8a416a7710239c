import LedgerCore

/// Organizations, their kinds and their member keys: the records every
/// permission check reads. Genesis names the first members; afterwards a
/// regulator admits or suspends organizations and each organization manages
/// its own keys (docs/contracts.md, Governance).
public struct GovernanceContract: BuiltInContract, MembershipDirectory {
    /// The contract's name in calls and its state namespace.
    public static let name = "governance"

    /// Organizations decoded from their stored records, shared by every
    /// reader of this contract: each permission check reads its sender's
    /// organization, and decoding one with many member keys costs more than
    /// the rest of the check.
    private let decoded = DecodedOrganizations()

    /// The governance contract; everything it needs is in the ledger state.
    public init() {}

    /// Query names; parameters are listed in ``query(_:parameters:in:)``.
    public enum Query: String, CaseIterable, Sendable {
        /// `id` → the organization.
        case organization
        /// No parameters → every organization, in id order.
        case organizations
        /// `key` (compressed public key, hex) → the organization the key signs for.
        case member
    }

    static func organizationKey(_ id: String) -> [UInt8] { stateKey("org", id) }
    static func memberKey(_ key: PublicKey) -> [UInt8] { stateKey("member", key.hex) }

    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] {
        var entries: [(key: [UInt8], value: [UInt8])] = []
        for organization in genesis.organizations {
            entries.append((Self.organizationKey(organization.id), organization.canonicalBytes))
            for key in organization.memberKeys {
                entries.append((Self.memberKey(key), Array(organization.id.utf8)))
            }
        }
        return entries
    }

    // MARK: Directory

    public func organization(forMember key: PublicKey, in state: any StateReader) throws(StorageError) -> Organization? {
        guard let rawID = try state.value(forFullKey: namespacedKey(Self.name, Self.memberKey(key))) else { return nil }
        return try organization(id: String(decoding: rawID, as: UTF8.self), in: state)
    }

    public func organization(id: String, in state: any StateReader) throws(StorageError) -> Organization? {
        guard let raw = try state.value(forFullKey: namespacedKey(Self.name, Self.organizationKey(id))) else { return nil }
        if let organization = decoded.organization(id: id, record: raw) { return organization }
        do {
            let organization = try Organization(canonicalBytes: raw)
            decoded.remember(organization, record: raw)
            return organization
        } catch {
            throw .corrupted(reason: "organization record '\(id)' does not decode: \(error)")
        }
    }

    // MARK: Execution

    public func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        switch try operation(of: call) {
        case .addOrganization:
            let organization = try Organization(canonicalBytes: call.arguments)
            try addOrganization(organization, in: &context)
        case .setOrganizationStatus:
            let arguments = try SetOrganizationStatus(canonicalBytes: call.arguments)
            guard var organization = try context.organization(id: arguments.organizationID) else {
                throw Rejection(code: "unknown_organization", message: "no organization '\(arguments.organizationID)'")
            }
            guard organization.id != context.organization.id else {
                throw Rejection(code: "self_suspension", message: "a regulator cannot change its own status")
            }
            organization.status = arguments.status
            context.put(Self.organizationKey(organization.id), organization)
            context.emit("organization_status", [("organization", organization.id), ("status", organization.status.rawValue)])
        case .addMemberKey:
            let arguments = try MemberKeyChange(canonicalBytes: call.arguments)
            var organization = context.organization
            guard try context.get(Self.memberKey(arguments.key)) == nil else {
                throw Rejection(code: "key_in_use", message: "key \(arguments.key.short)… already signs for an organization")
            }
            guard organization.memberKeys.count < GovernanceLimits.memberKeysPerOrganizationMax else {
                throw Rejection(code: "too_many_keys", message: "an organization may have at most \(GovernanceLimits.memberKeysPerOrganizationMax) member keys")
            }
            organization.memberKeys.append(arguments.key)
            context.put(Self.organizationKey(organization.id), organization)
            context.put(Self.memberKey(arguments.key), Array(organization.id.utf8))
            context.emit("member_key_added", [("organization", organization.id), ("key", arguments.key.hex)])
        case .removeMemberKey:
            let arguments = try MemberKeyChange(canonicalBytes: call.arguments)
            var organization = context.organization
            guard let position = organization.memberKeys.firstIndex(of: arguments.key) else {
                throw Rejection(code: "not_a_member_key", message: "key \(arguments.key.short)… is not a key of '\(organization.id)'")
            }
            guard organization.memberKeys.count > 1 else {
                throw Rejection(code: "last_key", message: "the last member key of an organization cannot be removed")
            }
            organization.memberKeys.remove(at: position)
            context.put(Self.organizationKey(organization.id), organization)
            context.delete(Self.memberKey(arguments.key))
            context.emit("member_key_removed", [("organization", organization.id), ("key", arguments.key.hex)])
        }
    }

    private func addOrganization(_ organization: Organization, in context: inout TransactionContext) throws {
        guard !organization.id.isEmpty, !organization.id.contains("/") else {
            throw Rejection(code: "bad_organization_id", message: "organization id must be non-empty and contain no '/'")
        }
        guard try context.organization(id: organization.id) == nil else {
            throw Rejection(code: "organization_exists", message: "organization '\(organization.id)' already exists")
        }
        guard !organization.memberKeys.isEmpty else {
            throw Rejection(code: "no_member_keys", message: "an organization needs at least one member key")
        }
        guard Set(organization.memberKeys).count == organization.memberKeys.count else {
            throw Rejection(code: "duplicate_key", message: "a member key is listed twice")
        }
        for key in organization.memberKeys where try context.get(Self.memberKey(key)) != nil {
            throw Rejection(code: "key_in_use", message: "key \(key.short)… already signs for an organization")
        }
        context.put(Self.organizationKey(organization.id), organization)
        for key in organization.memberKeys { context.put(Self.memberKey(key), Array(organization.id.utf8)) }
        context.emit("organization_added", [("organization", organization.id), ("kind", organization.kind.rawValue)])
    }

    // MARK: Queries

    public func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        guard let query = Query(rawValue: name) else {
            throw QueryError(.unknownQuery, "governance has no query '\(name)' (\(Query.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch query {
        case .organization:
            guard let id = parameters["id"] else { throw .missing("id") }
            let found: Organization?
            do { found = try view.organization(id: id) } catch { throw .storage(error) }
            guard let found else { throw QueryError(.notFound, "no organization '\(id)'") }
            return try .queryAnswer(OrganizationAnswer(found))
        case .organizations:
            let entries: [(key: [UInt8], value: [UInt8])]
            do { entries = try view.scan(contract: Self.name, prefix: stateKey("org", ""), start: nil, limit: GovernanceLimits.organizationsMax) } catch { throw .storage(error) }
            var list: [OrganizationAnswer] = []
            for entry in entries {
                guard let organization = try? Organization(canonicalBytes: entry.value) else {
                    throw QueryError(.storage, "an organization record does not decode")
                }
                list.append(OrganizationAnswer(organization))
            }
            return try .queryAnswer(list)
        case .member:
            guard let hex = parameters["key"] else { throw .missing("key") }
            guard let key = try? PublicKey(hex: hex) else { throw QueryError(.badParameter, "key is not a compressed secp256k1 public key in hex") }
            let found: Organization?
            do { found = try view.organization(forMember: key) } catch { throw .storage(error) }
            guard let found else { throw QueryError(.notFound, "key \(key.short)… belongs to no organization") }
            return try .queryAnswer(OrganizationAnswer(found))
        }
    }
}

/// Arguments of `governance.setOrganizationStatus`.
public struct SetOrganizationStatus: Equatable, Sendable, CanonicalCodable {
    public var organizationID: String
    public var status: OrganizationStatus

    public init(organizationID: String, status: OrganizationStatus) {
        self.organizationID = organizationID
        self.status = status
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(organizationID)
        encoder.write(status)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        organizationID = try decoder.readString("organization id", limit: GovernanceLimits.organizationIDBytesMax)
        status = try decoder.read(OrganizationStatus.self, "status")
    }
}

/// Arguments of `governance.addMemberKey` and `governance.removeMemberKey`.
public struct MemberKeyChange: Equatable, Sendable, CanonicalCodable {
    public var key: PublicKey

    public init(key: PublicKey) {
        self.key = key
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.read(PublicKey.self, "member key")
    }
}

/// Decoded organizations by id, each with the record it was decoded from: a
/// lookup answers only when the stored record is byte for byte the one
/// decoded, so a changed organization is decoded again. Bounded by
/// ``GovernanceLimits/decodedOrganizationsBytesMax``. Thread-safe.
final class DecodedOrganizations: @unchecked Sendable {
    private let lock = Lock()
    private var entries: [String: (record: [UInt8], organization: Organization)] = [:]
    private var bytes = 0

    func organization(id: String, record: [UInt8]) -> Organization? {
        lock.withLock {
            guard let entry = entries[id], entry.record == record else { return nil }
            return entry.organization
        }
    }

    func remember(_ organization: Organization, record: [UInt8]) {
        lock.withLock {
            if let replaced = entries[organization.id] { bytes -= replaced.record.count }
            if bytes + record.count > GovernanceLimits.decodedOrganizationsBytesMax {
                entries.removeAll(keepingCapacity: true)
                bytes = 0
            }
            entries[organization.id] = (record, organization)
            bytes += record.count
        }
    }
}
