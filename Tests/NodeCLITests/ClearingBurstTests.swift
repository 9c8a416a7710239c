import Foundation
import Testing
import Contracts
import Ledger
import ConsortTesting
@testable import Bench
import LedgerCore
@testable import Node
@testable import ReconciliationJob
import NodeAPI
@testable import NodeClient
@testable import NodeCLI

@Suite(.serialized) struct ClearingBurstTests {
    /// Every block of the test backend advances block time by a second, so
    /// the grace period is counted in blocks here: long enough that the three
    /// sides of a payment, sent together by three senders, land inside it even
    /// when one sender lags the others by tens of records on a loaded machine.
    private static func makeBackend() throws -> CommittingBackend {
        let contracts: [String: JSONValue] = ["clearing": .object(["graceMs": .integer(60_000), "inTransitThresholdMs": .integer(3_600_000)])]
        let chain = try LocalConsortium(organizations: ClearingScript.organizations, contracts: contracts, genesisTimestampMs: wallClockMs())
        return CommittingBackend(chain: chain)
    }

    /// The burst against a node API with a real reconciliation job following
    /// it: the job's findings are exactly the injected breaks, and the
    /// burst's report says so.
    @Test func burst_withAJobFollowing_findsExactlyTheInjectedBreaks() async throws {
        let backend = try Self.makeBackend()
        let statePath = temporaryStatePath()
        defer { try? FileManager.default.removeItem(atPath: statePath) }
        try await withAPIServer(backend) { client in
            let job = ReconciliationJob(client: client, key: backend.chain.member("ch").keys[1],
                                        options: .init(statePath: statePath, backoffMinMs: 20, backoffMaxMs: 200))
            let watcher = Task { try await job.watch() }
            defer { watcher.cancel() }
            // Block times run ahead of the clock here, so the delay limit is not what this test checks.
            let settings = try ClearingBurstSettings(nodes: [client.baseURL], payments: 60, breakPercent: 10, paymentsPerSecond: 40,
                                                     seed: 5, batchID: "t1", settleSeconds: 60, maxDelayMs: 100_000_000)
            let keys = ClearingBurst.Keys(payerBank: backend.chain.member("bankA").key, payeeBank: backend.chain.member("bankB").key,
                                          clearingHouse: backend.chain.member("ch").key)
            let report = try await ClearingBurst.run(settings, keys: keys) { _ in }
            #expect(report.passed, "\(report.lines.joined(separator: "\n"))")
            #expect(report.injected.values.reduce(0, +) == 6)
            #expect(report.expected == 7)
            #expect(report.found == 7)
            #expect(report.recordsCommitted == report.recordsSigned)
            #expect(report.trailingPayments > 0)
            let open = try await client.query(contract: "clearing", "openCycle", parameters: ["clearingHouse": "ch"], as: ClearingOpenCycleAnswer.self)
            #expect(open.cycle == "burst-t1")

            let again = try ClearingBurstSettings(nodes: [client.baseURL], payments: 10, breakPercent: 10, paymentsPerSecond: 40,
                                                  seed: 5, batchID: "t1", settleSeconds: 5, maxDelayMs: 5000)
            await #expect(throws: LoadRunError.setupFailed("batch 't1' already has findings on the ledger; choose another --batch")) {
                try await ClearingBurst.run(again, keys: keys) { _ in }
            }
        }
    }

    @Test func burst_withTwoKeysOfOneBank_isRefused() async throws {
        let backend = try Self.makeBackend()
        try await withAPIServer(backend) { client in
            let settings = try ClearingBurstSettings(nodes: [client.baseURL], payments: 10, breakPercent: 10, paymentsPerSecond: 40,
                                                     seed: 5, batchID: "t2", settleSeconds: 5, maxDelayMs: 5000)
            let bank = backend.chain.member("bankA").key
            let keys = ClearingBurst.Keys(payerBank: bank, payeeBank: bank, clearingHouse: backend.chain.member("ch").key)
            await #expect(throws: LoadRunError.setupFailed("the payer and payee bank keys both belong to 'bankA'; give two banks")) {
                try await ClearingBurst.run(settings, keys: keys) { _ in }
            }
            let wrongKind = ClearingBurst.Keys(payerBank: bank, payeeBank: backend.chain.member("bankB").key, clearingHouse: bank)
            await #expect(throws: LoadRunError.setupFailed("the clearing house key belongs to 'bankA', a bank, not a clearing_house")) {
                try await ClearingBurst.run(settings, keys: wrongKind) { _ in }
            }
        }
    }

    /// The message argument parsing gives for `arguments`, or nil if they parse.
    private static func refusal(_ arguments: [String]) -> String? {
        let keys = ["--payer-key", "a.key", "--payee-key", "b.key", "--clearing-key", "c.key"]
        do {
            _ = try ClearingCommand.Burst.parse(keys + arguments)
            return nil
        } catch {
            return ClearingCommand.Burst.message(for: error)
        }
    }

    @Test(arguments: [
        (["--payments", "0"], "--payments must be from 1 to 100000, got 0"),
        (["--break-percent", "60"], "--break-percent must be from 0 to 50.0, got 60.0"),
        (["--break-percent", "nan"], "--break-percent must be from 0 to 50.0, got nan"),
        (["--rate", "0"], "--rate must be from 1 to 10000 payments per second, got 0"),
        (["--batch", "a-b"], "--batch must be 1 to 24 ASCII letters and digits, got 'a-b'"),
        (["--settle", "0"], "--settle must be from 1 to 600 seconds, got 0"),
        (["--max-delay", "0"], "--max-delay must be positive, got 0"),
        (["--node", "ftp://x:1"], "'ftp://x:1' is not an http://host:port URL"),
    ])
    func badArguments_areRefusedSayingWhich(arguments: [String], message: String) throws {
        let refusal = try #require(Self.refusal(arguments))
        #expect(refusal.contains(message), "\(refusal)")
    }

    @Test func defaults_parse() {
        #expect(Self.refusal([]) == nil)
    }
}
