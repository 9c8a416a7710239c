import Foundation

/// Consensus and ledger parameters fixed at genesis.
public struct ChainParameters: Equatable, Sendable, Codable, CanonicalCodable {
    /// Most transactions a proposer puts in one block.
    public var blockTransactionsMax: Int
    /// How long a proposer waits to fill a block before proposing what it has.
    public var blockIntervalMs: Int
    /// Heights between checkpoints (K in the paper).
    public var checkpointIntervalBlocks: Int
    /// Heights that may be in flight above the stable checkpoint (high − low watermark).
    public var watermarkWindowBlocks: Int
    /// First view-change timeout; doubles with each successive view change.
    public var viewChangeTimeoutMs: Int
    /// How far ahead of the next nonce a pending transaction may be.
    public var nonceWindow: Int
    /// The longest a transaction may stay valid, from its submission.
    public var transactionLifetimeMsMax: Int

    public static let defaults = ChainParameters(
        blockTransactionsMax: 2000, blockIntervalMs: 50, checkpointIntervalBlocks: 10, watermarkWindowBlocks: 40,
        viewChangeTimeoutMs: 2000, nonceWindow: 1000, transactionLifetimeMsMax: 24 * 3600 * 1000)

    public init(blockTransactionsMax: Int, blockIntervalMs: Int, checkpointIntervalBlocks: Int, watermarkWindowBlocks: Int,
                viewChangeTimeoutMs: Int, nonceWindow: Int, transactionLifetimeMsMax: Int) {
        self.blockTransactionsMax = blockTransactionsMax
        self.blockIntervalMs = blockIntervalMs
        self.checkpointIntervalBlocks = checkpointIntervalBlocks
        self.watermarkWindowBlocks = watermarkWindowBlocks
        self.viewChangeTimeoutMs = viewChangeTimeoutMs
        self.nonceWindow = nonceWindow
        self.transactionLifetimeMsMax = transactionLifetimeMsMax
    }

    /// The JSON keys, listed so that a description naming another key can be refused.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case blockTransactionsMax, blockIntervalMs, checkpointIntervalBlocks, watermarkWindowBlocks, viewChangeTimeoutMs, nonceWindow,
             transactionLifetimeMsMax
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self.defaults
        blockTransactionsMax = try container.decodeIfPresent(Int.self, forKey: .blockTransactionsMax) ?? defaults.blockTransactionsMax
        blockIntervalMs = try container.decodeIfPresent(Int.self, forKey: .blockIntervalMs) ?? defaults.blockIntervalMs
        checkpointIntervalBlocks = try container.decodeIfPresent(Int.self, forKey: .checkpointIntervalBlocks) ?? defaults.checkpointIntervalBlocks
        watermarkWindowBlocks = try container.decodeIfPresent(Int.self, forKey: .watermarkWindowBlocks) ?? defaults.watermarkWindowBlocks
        viewChangeTimeoutMs = try container.decodeIfPresent(Int.self, forKey: .viewChangeTimeoutMs) ?? defaults.viewChangeTimeoutMs
        nonceWindow = try container.decodeIfPresent(Int.self, forKey: .nonceWindow) ?? defaults.nonceWindow
        transactionLifetimeMsMax = try container.decodeIfPresent(Int.self, forKey: .transactionLifetimeMsMax) ?? defaults.transactionLifetimeMsMax
    }

    /// Checks the parameters relate sensibly; returns what is wrong.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...Limits.blockTransactionsMax).contains(blockTransactionsMax) {
            problems.append("blockTransactionsMax must be between 1 and \(Limits.blockTransactionsMax)")
        }
        if !(1...60_000).contains(blockIntervalMs) { problems.append("blockIntervalMs must be between 1 and 60000") }
        if !(1...10_000).contains(checkpointIntervalBlocks) { problems.append("checkpointIntervalBlocks must be between 1 and 10000") }
        if watermarkWindowBlocks < 2 * checkpointIntervalBlocks || watermarkWindowBlocks > 100_000 {
            problems.append("watermarkWindowBlocks must be at least twice checkpointIntervalBlocks and at most 100000")
        }
        if !(10...600_000).contains(viewChangeTimeoutMs) { problems.append("viewChangeTimeoutMs must be between 10 and 600000") }
        if !(1...1_000_000).contains(nonceWindow) { problems.append("nonceWindow must be between 1 and 1000000") }
        if transactionLifetimeMsMax < 1000 { problems.append("transactionLifetimeMsMax must be at least 1000") }
        return problems
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        for value in [blockTransactionsMax, blockIntervalMs, checkpointIntervalBlocks, watermarkWindowBlocks,
                      viewChangeTimeoutMs, nonceWindow, transactionLifetimeMsMax] {
            encoder.write(UInt64(max(0, value)))
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        func read(_ field: String, _ decoder: inout CanonicalDecoder) throws(CodecError) -> Int {
            let value = try decoder.readUInt64(field)
            guard value <= UInt64(Int32.max) else { throw .integerOverflow(field: field) }
            return Int(value)
        }
        blockTransactionsMax = try read("blockTransactionsMax", &decoder)
        blockIntervalMs = try read("blockIntervalMs", &decoder)
        checkpointIntervalBlocks = try read("checkpointIntervalBlocks", &decoder)
        watermarkWindowBlocks = try read("watermarkWindowBlocks", &decoder)
        viewChangeTimeoutMs = try read("viewChangeTimeoutMs", &decoder)
        nonceWindow = try read("nonceWindow", &decoder)
        transactionLifetimeMsMax = try read("transactionLifetimeMsMax", &decoder)
    }
}

/// Why a genesis file was refused.
public struct GenesisError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid genesis: \(message)" }
}

/// The consortium's starting point: who the members and validators are and
/// the parameters everyone agrees on. Every node must start from the same
/// genesis; its hash is checked when a store is opened.
public struct Genesis: Equatable, Sendable, CanonicalEncodable {
    public var chainID: String
    public var timestampMs: UInt64
    public var organizations: [Organization]
    public var validators: ValidatorSet
    public var parameters: ChainParameters
    /// Per-contract sections, keyed by contract name; each contract reads its own.
    public var contracts: [String: JSONValue]

    public init(chainID: String, timestampMs: UInt64, organizations: [Organization], validators: ValidatorSet,
                parameters: ChainParameters = .defaults, contracts: [String: JSONValue] = [:]) throws(GenesisError) {
        self.chainID = chainID
        self.timestampMs = timestampMs
        self.organizations = organizations
        self.validators = validators
        self.parameters = parameters
        self.contracts = contracts
        try validate()
    }

    /// The identity of the chain: a hash over the canonical genesis.
    public var hash: Hash { Hash.tagged("consort/genesis", canonicalBytes) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(chainID)
        encoder.write(timestampMs)
        encoder.write(organizations)
        encoder.write(validators)
        encoder.write(parameters)
        encoder.write(JSONValue.object(contracts))
    }

    private func validate() throws(GenesisError) {
        guard !chainID.isEmpty, chainID.utf8.count <= Limits.chainIDBytesMax else {
            throw GenesisError("chainId must be 1 to \(Limits.chainIDBytesMax) bytes")
        }
        var ids = Set<String>()
        var keys = Set<PublicKey>()
        for organization in organizations {
            guard !organization.id.isEmpty, organization.id.utf8.count <= Limits.identifierBytesMax else {
                throw GenesisError("organization id '\(organization.id)' must be 1 to \(Limits.identifierBytesMax) bytes")
            }
            guard ids.insert(organization.id).inserted else { throw GenesisError("organization id '\(organization.id)' appears twice") }
            guard !organization.memberKeys.isEmpty, organization.memberKeys.count <= Limits.memberKeysMax else {
                throw GenesisError("organization '\(organization.id)' needs 1 to \(Limits.memberKeysMax) member keys")
            }
            for key in organization.memberKeys {
                guard keys.insert(key).inserted else {
                    throw GenesisError("member key \(key.short)… is listed twice (a key belongs to one organization)")
                }
            }
        }
        for validator in validators.validators {
            guard let owner = organizations.first(where: { $0.id == validator.organizationID }) else {
                throw GenesisError("validator '\(validator.name)' names unknown organization '\(validator.organizationID)'")
            }
            guard owner.kind == .bank else {
                throw GenesisError("validator '\(validator.name)' belongs to '\(owner.id)', which is not a bank")
            }
            guard parseHostPort(validator.address) != nil else {
                throw GenesisError("validator '\(validator.name)' has address '\(validator.address)', expected host:port")
            }
        }
        let problems = parameters.problems()
        guard problems.isEmpty else { throw GenesisError(problems.joined(separator: "; ")) }
    }

    /// Reads a genesis JSON document. Errors name the field that was wrong,
    /// and a key the format does not have is refused with its nearest valid spelling.
    public static func load(json data: Data) throws(GenesisError) -> Genesis {
        let file: GenesisFile
        do {
            file = try StrictJSONDecoder.decode(GenesisFile.self, from: data)
        } catch {
            throw GenesisError(error.description)
        }
        return try file.genesis()
    }

    /// The JSON document this genesis was (or would be) loaded from.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(GenesisFile(self))
    }
}

/// Splits `host:port`; nil unless the port is a number from 1 to 65535.
public func parseHostPort(_ address: String) -> (host: String, port: Int)? {
    guard let colon = address.lastIndex(of: ":") else { return nil }
    let host = String(address[..<colon])
    guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else { return nil }
    return (host, port)
}

/// The JSON shape of a genesis file.
struct GenesisFile: Codable {
    struct OrganizationEntry: Codable {
        var id: String
        var name: String
        var kind: OrganizationKind
        var memberKeys: [String]
        var status: OrganizationStatus?
    }

    struct ValidatorEntry: Codable {
        var name: String
        var organization: String
        var nodeKey: String
        var address: String
    }

    var chainId: String
    var timestampMs: UInt64
    var organizations: [OrganizationEntry]
    var validators: [ValidatorEntry]
    var parameters: ChainParameters?
    var contracts: [String: JSONValue]?

    init(_ genesis: Genesis) {
        chainId = genesis.chainID
        timestampMs = genesis.timestampMs
        organizations = genesis.organizations.map {
            OrganizationEntry(id: $0.id, name: $0.name, kind: $0.kind, memberKeys: $0.memberKeys.map(\.hex), status: $0.status)
        }
        validators = genesis.validators.validators.map {
            ValidatorEntry(name: $0.name, organization: $0.organizationID, nodeKey: $0.nodeKey.hex, address: $0.address)
        }
        parameters = genesis.parameters
        contracts = genesis.contracts
    }

    func genesis() throws(GenesisError) -> Genesis {
        var parsedOrganizations: [Organization] = []
        for (index, entry) in organizations.enumerated() {
            var keys: [PublicKey] = []
            for (keyIndex, hex) in entry.memberKeys.enumerated() {
                do {
                    keys.append(try PublicKey(hex: hex))
                } catch {
                    throw GenesisError("organizations[\(index)].memberKeys[\(keyIndex)]: \(error)")
                }
            }
            parsedOrganizations.append(Organization(id: entry.id, name: entry.name, kind: entry.kind, memberKeys: keys, status: entry.status ?? .active))
        }
        var parsedValidators: [Validator] = []
        for (index, entry) in validators.enumerated() {
            let key: PublicKey
            do {
                key = try PublicKey(hex: entry.nodeKey)
            } catch {
                throw GenesisError("validators[\(index)].nodeKey: \(error)")
            }
            parsedValidators.append(Validator(name: entry.name, organizationID: entry.organization, nodeKey: key, address: entry.address))
        }
        let set: ValidatorSet
        do {
            set = try ValidatorSet(parsedValidators)
        } catch {
            throw GenesisError("validators: \(error)")
        }
        return try Genesis(chainID: chainId, timestampMs: timestampMs, organizations: parsedOrganizations, validators: set,
                           parameters: parameters ?? .defaults, contracts: contracts ?? [:])
    }
}
