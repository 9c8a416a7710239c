import Foundation
import Testing
import Contracts
import ConsortTesting
import LedgerCore
import Node

/// The blacklist commands against a node: codes are checked before anything
/// is signed, and a check prints every entry it found.
@Suite(.serialized) struct BlacklistCodeTests {
    let backend: CommittingBackend
    let folder: TemporaryFolder
    let bankKey: String
    let subject: BlacklistSubject

    init() throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank), ("bankB", .bank), ("bankC", .bank)], genesisTimestampMs: wallClockMs())
        backend = CommittingBackend(chain: chain)
        folder = try TemporaryFolder()
        bankKey = folder.path + "/bankB.key"
        try KeyFile.write(chain.member("bankB").key, to: bankKey)
        subject = try BlacklistFixtures.company(serial: 42)
        for (bank, reason) in [("bankA", "fraud"), ("bankC", "loan_default")] {
            let entry = AddBlacklistEntry(subject: subject, reasonCode: reason, evidenceHash: Hash.sha256(Array(bank.utf8)), expiresAtMs: nil, note: nil)
            #expect(try backend.commit(bank, BlacklistContract.call(.add, entry)).isSuccess)
        }
    }

    private var company: String { subject.creditCode ?? "" }

    @Test func check_printsEveryEntryFound() async throws {
        try await withAPIServer(backend) { client in
            let result = try runCLI(["blacklist", "check", "--key", bankKey, "--company", company, "--purpose", "loan_review", "--node", client.baseURL])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("1 subject(s) checked, 1 with live entries"), "\(result.output)")
            #expect(result.output.contains(#""uploader":"bankA""#) && result.output.contains(#""uploader":"bankC""#), "\(result.output)")
        }
    }

    @Test func aCodeTheGenesisDoesNotDefine_isRefusedBeforeSigning_namingTheCodesAndTheCommand() async throws {
        try await withAPIServer(backend) { client in
            let height = backend.ledger.head.height
            let check = try runCLI(["blacklist", "check", "--key", bankKey, "--company", company, "--purpose", "curiosity", "--node", client.baseURL])
            #expect(check.status == 2)
            #expect(check.error.contains("--purpose 'curiosity'") && check.error.contains("loan_review") && check.error.contains("consort genesis codes"),
                    "\(check.error)")
            let add = try runCLI(["blacklist", "add", "--key", bankKey, "--company", company, "--reason", "frued",
                                  "--evidence-hash", Hash.sha256([1]).hex, "--node", client.baseURL])
            #expect(add.status == 2)
            #expect(add.error.contains("--reason 'frued'") && add.error.contains("fraud"), "\(add.error)")
            #expect(backend.ledger.head.height == height, "nothing was submitted")
            #expect(backend.mempool.count == 0)
        }
    }

    @Test func genesisCodes_listsTheCodes_fromTheNodeAndFromAFile() async throws {
        let genesisFile = folder.path + "/genesis.json"
        try backend.chain.genesis.json().write(to: URL(fileURLWithPath: genesisFile))
        try await withAPIServer(backend) { client in
            let fromNode = try runCLI(["genesis", "codes", "--node", client.baseURL])
            #expect(fromNode.status == 0, "\(fromNode.error)")
            let fromFile = try runCLI(["genesis", "codes", "--genesis", genesisFile])
            #expect(fromFile.status == 0, "\(fromFile.error)")
            #expect(fromFile.output == fromNode.output)
            for code in BlacklistParameters.defaults.reasonCodes + BlacklistParameters.defaults.purposeCodes {
                #expect(fromNode.output.contains("  \(code)\n"), "\(code)")
            }
            let json = try runCLI(["genesis", "codes", "--node", client.baseURL, "--json"])
            let decoded = try JSONDecoder().decode([String: [String]].self, from: Data(json.output.utf8))
            #expect(decoded["blacklistPurposeCodes"] == BlacklistParameters.defaults.purposeCodes)
        }
        let missing = try runCLI(["genesis", "codes", "--genesis", folder.path + "/absent.json"])
        #expect(missing.status == 2)
    }
}
