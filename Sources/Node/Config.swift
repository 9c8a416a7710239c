import Foundation
import Ledger
import LedgerCore
import Logging

/// A problem with a configuration, key or description file; says which file and what.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }

    /// Reads a hand-written JSON file of `type` with ``StrictJSONDecoder``:
    /// a key the format does not have, or a value outside an enum's cases, is
    /// refused with its path, the nearest valid spelling or the allowed values.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws(ConfigError) -> T {
        do {
            return try StrictJSONDecoder.decode(type, from: data)
        } catch {
            throw ConfigError(file: file, error.description)
        }
    }
}

/// A key file: the private key in hex and, for convenience, its public key.
/// Written with permissions 0600; one that its group or others may read or
/// change is refused on reading, since the key may already have been copied.
public enum KeyFile {
    struct Contents: Codable {
        var privateKey: String
        var publicKey: String
    }

    public static func write(_ key: PrivateKey, to path: String) throws(ConfigError) {
        let contents = Contents(privateKey: key.hex, publicKey: key.publicKey.hex)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(contents)
            guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw ConfigError(file: path, "cannot create the key file (does the folder exist and is it writable?)")
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, "cannot write the key file: \(error.localizedDescription)")
        }
    }

    /// Refuses a secret file (a signing or node key, the consortium key) that
    /// its group or others may read or change; the error gives the
    /// `chmod 600` that fixes it. A symbolic link is judged by its target.
    public static func checkOwnerOnly(_ path: String) throws(ConfigError) {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let mode: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: target)
            guard let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue else {
                throw ConfigError(file: path, "cannot read the file's permissions")
            }
            mode = permissions
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, "cannot read the file's permissions: \(error.localizedDescription)")
        }
        guard mode & 0o077 == 0 else {
            throw ConfigError(file: path, """
                holds a secret key but its group or others may read or change it (mode \(String(mode & 0o777, radix: 8))); \
                make it the owner's alone with: chmod 600 \(path)
                """)
        }
    }

    /// Reads a secret that a file holds as hex text (the consortium key), after
    /// the same owner-only check as a key file.
    public static func readHexSecret(_ path: String) throws(ConfigError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, "cannot read the secret file (missing or not readable)")
        }
        try checkOwnerOnly(path)
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let secret = Hex.decode(text), !secret.isEmpty else {
            throw ConfigError(file: path, "does not hold a key in hex")
        }
        return secret
    }

    public static func read(_ path: String) throws(ConfigError) -> PrivateKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, "cannot read the key file (missing or not readable)")
        }
        try checkOwnerOnly(path)
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
        } catch {
            throw ConfigError(file: path, "not a Consort key file: expected {\"privateKey\": hex, \"publicKey\": hex}")
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(hex: contents.privateKey)
        } catch {
            throw ConfigError(file: path, "privateKey: \(error)")
        }
        guard key.publicKey.hex == contents.publicKey.lowercased() else {
            throw ConfigError(file: path, "publicKey does not match privateKey")
        }
        return key
    }
}

/// Where a node keeps its data and how it is reached.
public struct NodeConfig: Equatable, Sendable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// Takes part in consensus with a node key from the genesis validator set.
        case validator
        /// Follows the chain by fetching certified blocks from validators' APIs.
        case observer
    }

    public var name: String
    public var role: Role
    public var genesisPath: String
    public var nodeKeyPath: String?
    public var dataDirectory: String
    public var apiHost: String
    public var apiPort: Int
    /// Peer listener; for validators it defaults to the genesis address.
    public var peerAddress: String?
    /// APIs an observer fetches blocks from.
    public var syncFrom: [String]
    public var logLevel: String
    /// Lets a validator whose ledger holds blocks start without a consensus
    /// state: set only by the operator, for one start (`node start --fresh-consensus-state`).
    public var freshConsensusState = false

    struct File: Codable {
        var name: String
        var role: Role?
        var genesis: String
        var nodeKey: String?
        var dataDir: String
        var api: String
        var p2p: String?
        var syncFrom: [String]?
        var logLevel: Logger.Level?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, role, genesis, nodeKey, dataDir, api, p2p, syncFrom, logLevel
        }
    }

    public init(name: String, role: Role, genesisPath: String, nodeKeyPath: String?, dataDirectory: String, apiHost: String,
                apiPort: Int, peerAddress: String?, syncFrom: [String], logLevel: String) {
        self.name = name
        self.role = role
        self.genesisPath = genesisPath
        self.nodeKeyPath = nodeKeyPath
        self.dataDirectory = dataDirectory
        self.apiHost = apiHost
        self.apiPort = apiPort
        self.peerAddress = peerAddress
        self.syncFrom = syncFrom
        self.logLevel = logLevel
    }

    /// Reads a node config; relative paths in it are relative to the config file's folder.
    public static func load(_ path: String) throws(ConfigError) -> NodeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, "cannot read the config file (missing or not readable)")
        }
        let file = try ConfigError.decode(File.self, from: data, file: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base + "/" + relative
        }
        guard let (apiHost, apiPort) = parseHostPort(file.api) else {
            throw ConfigError(file: path, "api must be host:port, got '\(file.api)'")
        }
        if let p2p = file.p2p, parseHostPort(p2p) == nil {
            throw ConfigError(file: path, "p2p must be host:port, got '\(p2p)'")
        }
        let role = file.role ?? .validator
        if role == .validator && file.nodeKey == nil {
            throw ConfigError(file: path, "a validator needs nodeKey (the path of its key file)")
        }
        if role == .observer && (file.syncFrom ?? []).isEmpty {
            throw ConfigError(file: path, "an observer needs syncFrom: the API URLs of validators to fetch blocks from")
        }
        let level = (file.logLevel ?? .info).rawValue
        return NodeConfig(name: file.name, role: role, genesisPath: resolve(file.genesis), nodeKeyPath: file.nodeKey.map(resolve),
                          dataDirectory: resolve(file.dataDir), apiHost: apiHost, apiPort: apiPort, peerAddress: file.p2p,
                          syncFrom: file.syncFrom ?? [], logLevel: level)
    }

    /// Writes a config file (paths as given).
    public static func write(_ file: [String: Any], to path: String) throws(ConfigError) {
        do {
            let data = try JSONSerialization.data(withJSONObject: file, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(file: path, "cannot write: \(error.localizedDescription)")
        }
    }
}

/// A short description of a consortium from which `consort genesis init` builds the genesis file.
public struct GenesisDescription: Codable, Sendable {
    public struct OrganizationEntry: Codable, Sendable {
        public var id: String
        public var name: String?
        public var kind: OrganizationKind
        /// Public keys in hex, or…
        public var memberKeys: [String]?
        /// …paths of key files whose public keys to use.
        public var keyFiles: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, name, kind, memberKeys, keyFiles
        }
    }

    public struct ValidatorEntry: Codable, Sendable {
        public var name: String
        public var organization: String
        public var nodeKey: String?
        public var keyFile: String?
        public var address: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, organization, nodeKey, keyFile, address
        }
    }

    public var chainId: String
    public var timestampMs: UInt64?
    public var organizations: [OrganizationEntry]
    public var validators: [ValidatorEntry]
    public var parameters: ChainParameters?
    public var contracts: [String: JSONValue]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chainId, timestampMs, organizations, validators, parameters, contracts
    }

    /// Reads a description from the JSON in `data` (from `file`), refusing
    /// keys the format does not have, with their path and nearest valid
    /// spelling, and an organization `kind` outside the kinds, with the list.
    public static func decode(_ data: Data, file: String) throws(ConfigError) -> GenesisDescription {
        try ConfigError.decode(GenesisDescription.self, from: data, file: file)
    }

    /// Builds the genesis; key file paths are relative to `baseDirectory`.
    public func genesis(baseDirectory: String, defaultTimestampMs: UInt64) throws(ConfigError) -> Genesis {
        func resolve(_ relative: String) -> String { relative.hasPrefix("/") ? relative : baseDirectory + "/" + relative }
        func publicKey(hex: String?, file: String?, what: String) throws(ConfigError) -> PublicKey {
            if let hex {
                do { return try PublicKey(hex: hex) } catch { throw ConfigError(file: "description", "\(what): \(error)") }
            }
            if let file { return try KeyFile.read(resolve(file)).publicKey }
            throw ConfigError(file: "description", "\(what): give a public key in hex or a key file")
        }
        var organizations: [Organization] = []
        for entry in self.organizations {
            var keys: [PublicKey] = []
            for hex in entry.memberKeys ?? [] { keys.append(try publicKey(hex: hex, file: nil, what: "organization '\(entry.id)'")) }
            for file in entry.keyFiles ?? [] { keys.append(try publicKey(hex: nil, file: file, what: "organization '\(entry.id)'")) }
            organizations.append(Organization(id: entry.id, name: entry.name ?? entry.id, kind: entry.kind, memberKeys: keys))
        }
        var validators: [Validator] = []
        for entry in self.validators {
            let key = try publicKey(hex: entry.nodeKey, file: entry.keyFile, what: "validator '\(entry.name)'")
            validators.append(Validator(name: entry.name, organizationID: entry.organization, nodeKey: key, address: entry.address))
        }
        do {
            let set = try ValidatorSet(validators)
            return try Genesis(chainID: chainId, timestampMs: timestampMs ?? defaultTimestampMs, organizations: organizations,
                               validators: set, parameters: parameters ?? .defaults, contracts: contracts ?? [:])
        } catch let error as GenesisError {
            throw ConfigError(file: "description", error.message)
        } catch {
            throw ConfigError(file: "description", "\(error)")
        }
    }
}
