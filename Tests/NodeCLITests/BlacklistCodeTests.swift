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
            let result = try await runConsortAsync(["blacklist", "check", "--key", bankKey, "--company", company, "--purpose", "loan_review", "--node", client.baseURL])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("1 subject(s) checked, 1 with live entries"), "\(result.out)")
            #expect(result.out.contains(#""uploader":"bankA""#) && result.out.contains(#""uploader":"bankC""#), "\(result.out)")
        }
    }

    @Test func aCodeTheGenesisDoesNotDefine_isRefusedBeforeSigning_namingTheCodesAndTheCommand() async throws {
        try await withAPIServer(backend) { client in
            let height = backend.ledger.head.height
            let check = try await runConsortAsync(["blacklist", "check", "--key", bankKey, "--company", company, "--purpose", "curiosity", "--node", client.baseURL])
            #expect(check.status == 2)
            #expect(check.err.contains("--purpose 'curiosity'") && check.err.contains("loan_review") && check.err.contains("consort genesis codes"),
                    "\(check.err)")
            let add = try await runConsortAsync(["blacklist", "add", "--key", bankKey, "--company", company, "--reason", "frued",
                                  "--evidence-hash", Hash.sha256([1]).hex, "--node", client.baseURL])
            #expect(add.status == 2)
            #expect(add.err.contains("--reason 'frued'") && add.err.contains("fraud"), "\(add.err)")
            #expect(backend.ledger.head.height == height, "nothing was submitted")
            #expect(backend.mempool.count == 0)
        }
    }

    @Test func genesisCodes_listsTheCodes_fromTheNodeAndFromAFile() async throws {
        let genesisFile = folder.path + "/genesis.json"
        try backend.chain.genesis.json().write(to: URL(fileURLWithPath: genesisFile))
        try await withAPIServer(backend) { client in
            let fromNode = try await runConsortAsync(["genesis", "codes", "--node", client.baseURL])
            #expect(fromNode.status == 0, "\(fromNode.err)")
            let fromFile = try await runConsortAsync(["genesis", "codes", "--genesis", genesisFile])
            #expect(fromFile.status == 0, "\(fromFile.err)")
            #expect(fromFile.out == fromNode.out)
            for code in BlacklistParameters.defaults.reasonCodes + BlacklistParameters.defaults.purposeCodes {
                #expect(fromNode.out.contains("  \(code)\n"), "\(code)")
            }
            let json = try await runConsortAsync(["genesis", "codes", "--node", client.baseURL, "--json"])
            let decoded = try JSONDecoder().decode([String: [String]].self, from: Data(json.out.utf8))
            #expect(decoded["blacklistPurposeCodes"] == BlacklistParameters.defaults.purposeCodes)
        }
        let missing = try runCLI(["genesis", "codes", "--genesis", folder.path + "/absent.json"])
        #expect(missing.status == 2)
    }
}

/// A wait for a commit that cannot come.
@Suite struct CommitWaitTests {
    @Test func aWaitThatRunsOut_printedTheIdFirst_andSaysTheNodeSeesNoQuorum() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)], genesisTimestampMs: wallClockMs())
        let backend = LedgerOnlyBackend(ledger: chain.ledger)
        let folder = try TemporaryFolder()
        let key = folder.path + "/bankA.key"
        try KeyFile.write(chain.member("bankA").key, to: key)
        try await withAPIServer(backend) { client in
            let result = try await runConsortAsync(["blacklist", "check", "--key", key, "--company", try BlacklistFixtures.company(serial: 7).creditCode ?? "",
                                     "--purpose", "loan_review", "--wait-timeout", "1", "--node", client.baseURL])
            #expect(result.status != 0)
            let id = try #require(backend.mempool.pending().first?.id.hex, "the transaction reached the node")
            #expect(result.err.hasPrefix("\(id) submitted; waiting up to 1 s"), "\(result.err)")
            #expect(result.err.contains("did not commit within 1 s; the node sees 0 of 4 validators connected, 3 needed"), "\(result.err)")
            #expect(result.err.contains("consort tx status \(id)"))
        }
        #expect(try runCLI(["blacklist", "check", "--key", key, "--company", "x", "--purpose", "p", "--wait-timeout", "0"]).status == 2)
    }

    @Test func status_saysHowManyValidatorsAreReached_andWhenTheLastBlockWasMade() async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank)], genesisTimestampMs: 1_767_225_600_000)
        let backend = LedgerOnlyBackend(ledger: chain.ledger)
        try await withAPIServer(backend) { client in
            let result = try await runConsortAsync(["status", "--node", client.baseURL])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("at 2026-01-01T00:00:00Z"), "\(result.out)")
            #expect(result.out.contains("0 of 4 validators reached, 3 needed to commit: NO QUORUM"), "\(result.out)")
        }
    }
}
