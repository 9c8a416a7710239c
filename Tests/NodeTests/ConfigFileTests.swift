import Foundation
import Testing
import ConsortTesting
import LedgerCore
@testable import Node

/// A folder with a node config, a genesis description and a genesis, written as a test gives them.
private final class ConfigFolder {
    let path = NSTemporaryDirectory() + "consort-config-\(UUID().uuidString)"

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ text: String, to name: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// The message `NodeConfig.load` refuses `config` with, or nil if it loads.
    func configError(_ config: String) throws -> String? {
        let file = try write(config, to: "config.json")
        do throws(ConfigError) {
            _ = try NodeConfig.load(file)
            return nil
        } catch {
            #expect(error.file == file)
            return error.message
        }
    }
}

private let validConfig = """
    {"name": "node0", "role": "validator", "genesis": "genesis.json", "nodeKey": "node0.key", "dataDir": "data",
     "api": "127.0.0.1:7100", "p2p": "127.0.0.1:7000", "logLevel": "info"}
    """

private func description(validators: String = #"{"name": "node0", "organization": "bankA", "keyFile": "node0.key", "address": "127.0.0.1:7000"}"#,
                         kind: String = "bank", parameters: String = #"{"blockIntervalMs": 40}"#) -> String {
    """
    {"chainId": "config-test", "organizations": [{"id": "bankA", "name": "Bank A", "kind": "\(kind)", "keyFiles": ["bankA.key"]}],
     "validators": [\(validators)], "parameters": \(parameters)}
    """
}

private func descriptionError(_ text: String) -> String? {
    do throws(ConfigError) {
        _ = try GenesisDescription.decode(Data(text.utf8), file: "description.json")
        return nil
    } catch {
        return error.message
    }
}

/// Node configs, genesis descriptions and genesis files: a key the format
/// does not have, or a value outside an enum's, is refused by name.
@Suite struct ConfigFileTests {
    @Test func everyKeyAConfigMayHave_loads() throws {
        let folder = try ConfigFolder()
        #expect(try folder.configError(validConfig) == nil)
        let observer = #"{"name": "o", "role": "observer", "genesis": "g.json", "dataDir": "d", "api": "127.0.0.1:1", "syncFrom": ["http://127.0.0.1:2"]}"#
        #expect(try folder.configError(observer) == nil)
        let file = try folder.write(validConfig, to: "full.json")
        let config = try NodeConfig.load(file)
        #expect(config.role == .validator && config.logLevel == "info" && config.peerAddress == "127.0.0.1:7000")
        #expect(config.dataDirectory == folder.path + "/data")
    }

    @Test func aTypoAtTheTop_ofAConfig_isNamedWithTheNearestSpelling() throws {
        let folder = try ConfigFolder()
        let required = try folder.configError(validConfig.replacingOccurrences(of: "\"dataDir\"", with: "\"dataDirectory\""))
        #expect(required?.hasPrefix("unknown key 'dataDirectory'; did you mean 'dataDir'?") == true, "\(required ?? "loaded")")
        let optional = try folder.configError(validConfig.replacingOccurrences(of: "\"logLevel\"", with: "\"loglevel\""))
        #expect(optional?.hasPrefix("unknown key 'loglevel'; did you mean 'logLevel'?") == true, "\(optional ?? "loaded")")
        #expect(optional?.contains("valid keys here: api, dataDir, genesis, logLevel, name, nodeKey, p2p, role, syncFrom") == true)
    }

    @Test func aValueOutsideAnEnum_inAConfig_listsTheAllowedValues() throws {
        let folder = try ConfigFolder()
        let role = try folder.configError(validConfig.replacingOccurrences(of: "\"validator\"", with: "\"validater\""))
        #expect(role == "role is 'validater'; allowed: validator, observer")
        let level = try folder.configError(validConfig.replacingOccurrences(of: "\"info\"", with: "\"verbose\""))
        #expect(level == "logLevel is 'verbose'; allowed: trace, debug, info, notice, warning, error, critical")
    }

    @Test func aTypoNested_inADescription_isNamedWithItsPath() {
        #expect(descriptionError(description()) == nil)
        let twoValidators = #"{"name": "node0", "organization": "bankA", "keyFile": "k0", "address": "127.0.0.1:7000"}, "#
            + #"{"name": "node1", "organization": "bankA", "keyFile": "k1", "adress": "127.0.0.1:7001"}"#
        let address = descriptionError(description(validators: twoValidators))
        #expect(address?.hasPrefix("unknown key 'validators[1].adress'; did you mean 'address'?") == true, "\(address ?? "decoded")")
        let parameter = descriptionError(description(parameters: #"{"blockIntervalMS": 40}"#))
        #expect(parameter?.hasPrefix("unknown key 'parameters.blockIntervalMS'; did you mean 'blockIntervalMs'?") == true, "\(parameter ?? "decoded")")
        let organization = descriptionError(description().replacingOccurrences(of: "\"keyFiles\"", with: "\"keyfile\""))
        #expect(organization?.hasPrefix("unknown key 'organizations[0].keyfile'; did you mean 'keyFiles'?") == true, "\(organization ?? "decoded")")
    }

    @Test func anOrganizationKindOutsideTheList_inADescription_listsTheKinds() {
        #expect(descriptionError(description(kind: "shop"))
                == "organizations[0].kind is 'shop'; allowed: bank, core_enterprise, enterprise, auditor, regulator, clearing_house")
    }

    @Test func aGenesisFile_refusesATypo_butTakesAnyContractSection() throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)])
        let json = try #require(String(data: try chain.genesis.json(), encoding: .utf8))
        #expect(try Genesis.load(json: Data(json.utf8)) == chain.genesis)
        let typo = #expect(throws: GenesisError.self) {
            try Genesis.load(json: Data(json.replacingOccurrences(of: "\"memberKeys\"", with: "\"memberKey\"").utf8))
        }
        #expect(typo?.message.hasPrefix("unknown key 'organizations[0].memberKey'; did you mean 'memberKeys'?") == true, "\(String(describing: typo))")
        let status = #expect(throws: GenesisError.self) {
            try Genesis.load(json: Data(json.replacingOccurrences(of: "\"active\"", with: "\"activ\"").utf8))
        }
        #expect(status?.message == "organizations[0].status is 'activ'; allowed: active, suspended")

        var withContracts = chain.genesis
        withContracts.contracts = ["statements": .object(["anyKeyAContractReads": .integer(1)])]
        let reloaded = try Genesis.load(json: try withContracts.json())
        #expect(reloaded.contracts == withContracts.contracts)
    }
}
