import Foundation
import Testing
import ConsortTesting
import Ledger
import LedgerCore
@testable import Node

/// A backend whose status the test sets.
private final class StatusBackend: NodeBackend, @unchecked Sendable {
    let ledger: Ledger
    let mempool: Mempool
    let metrics = NodeMetrics()
    let commits: CommitNotifier
    let fixed: NodeStatus

    init(ledger: Ledger, status: NodeStatus) {
        self.ledger = ledger
        mempool = Mempool(ledger: ledger)
        commits = CommitNotifier(height: ledger.head.height)
        fixed = status
    }

    func submit(_ transaction: Transaction) throws(AdmissionError) -> Mempool.Admission { try mempool.add(transaction, nowMs: 0) }
    func status() -> NodeStatus { fixed }
}

@Suite struct HealthTests {
    let chain: LocalConsortium

    init() throws { chain = try LocalConsortium(organizations: [("bankA", .bank)]) }

    /// A validator's status among four validators, `connected` of the three others connected.
    private func validatorStatus(connected: Int, fault: String? = nil, peersHeight: UInt64? = nil, sinceAdvanceMs: UInt64? = 0) -> NodeStatus {
        let validators = chain.genesis.validators.validators.enumerated().map { index, validator in
            NodeStatus.ValidatorState(name: validator.name, nodeKey: validator.nodeKey, address: validator.address,
                                      connected: index >= 1 && index <= connected, isSelf: index == 0)
        }
        return NodeStatus(nodeName: "node0", role: "validator", head: chain.ledger.head, view: 0, primary: "node0", validators: validators,
                          mempoolSize: 0, syncing: false, fault: fault, quorum: chain.genesis.validators.quorum,
                          peersHeight: peersHeight, sinceAdvanceMs: sinceAdvanceMs)
    }

    @Test func aConnectedUnfaultedValidator_isReady() {
        #expect(NodeHealth(validatorStatus(connected: 3)).isReady)
        #expect(NodeHealth(validatorStatus(connected: 2)).isReady, "with f = 1 one peer may be away")
    }

    @Test func aFaultedNode_isNotReady_andSaysWhy() {
        let health = NodeHealth(validatorStatus(connected: 3, fault: "block 7 could not be applied: the database is corrupted"))
        #expect(!health.isReady)
        #expect(health.problems.first?.contains("block 7 could not be applied") == true)
    }

    @Test func aValidatorWithoutAQuorumOfConnections_isNotReady() {
        let health = NodeHealth(validatorStatus(connected: 1))
        #expect(!health.isReady)
        #expect(health.problems.first?.contains("connected to 1 of the 3 other validators") == true)
    }

    @Test func aNodeStuckWhileOthersMoveOn_isNotReady_butOneCatchingUpIs() {
        let height = chain.ledger.head.height
        let stuck = NodeHealth(validatorStatus(connected: 3, peersHeight: height + 5, sinceAdvanceMs: NodeTiming.stalledMsMax))
        #expect(!stuck.isReady)
        #expect(stuck.problems.first?.contains("stuck at height \(height)") == true)
        #expect(NodeHealth(validatorStatus(connected: 3, peersHeight: height + 5, sinceAdvanceMs: 200)).isReady)
        #expect(NodeHealth(validatorStatus(connected: 3, peersHeight: height, sinceAdvanceMs: NodeTiming.stalledMsMax * 10)).isReady,
                "an idle chain is not a stalled node")
    }

    @Test func readinessAnswers503WithTheFault_whileLivenessAnswers200() async throws {
        let fault = "block 7 could not be applied: the database is corrupted"
        let backend = StatusBackend(ledger: chain.ledger, status: validatorStatus(connected: 3, fault: fault))
        try await withAPIServer(backend) { client in
            for path in ["/health", "/health/ready"] {
                let response = try await client.request(.GET, path)
                #expect(response.status == 503, "\(path)")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
                #expect(body["status"] as? String == "unhealthy")
                #expect(body["fault"] as? String == fault)
                #expect((body["error"] as? [String: Any])?["code"] as? String == "unhealthy")
            }
            #expect(try await client.request(.GET, "/health/live").status == 200)
        }
        let healthy = StatusBackend(ledger: chain.ledger, status: validatorStatus(connected: 3))
        try await withAPIServer(healthy) { client in
            let response = try await client.request(.GET, "/health")
            #expect(response.status == 200)
        }
    }
}
