import Foundation
import Logging
import Testing
import Contracts
import Ledger
import LedgerCore
@testable import Node

/// A request another validator relays to the primary passes the same
/// admission as one from the API or from gossip.
@Suite struct RelayedAdmissionTests {
    @Test func relayedRequests_takeTheMempoolsAdmission_membershipAndNonceWindow() throws {
        let (directory, config, memberKey) = try validatorFolder(blocks: 1)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try ConsortNode(config: config, logger: Logger(label: "test"))
        let validator = ShellProposalValidator(node: node)
        let chainID = node.genesis.chainID
        let call = GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey))
        let expiry = wallClockMs() + 600_000

        let outsider = Transaction.signed(chainID: chainID, key: try PrivateKey.generate(), nonce: 0, expiresAtMs: expiry, call: call)
        #expect(validator.isAcceptable(outsider), "the proposal check alone does not know members")
        #expect(!validator.admitRelayed(outsider), "a key of no organization is refused")
        let window = UInt64(node.genesis.parameters.nonceWindow)
        let farAhead = Transaction.signed(chainID: chainID, key: memberKey, nonce: window + 5, expiresAtMs: expiry, call: call)
        #expect(!validator.admitRelayed(farAhead), "a nonce beyond the window is refused")
        #expect(node.mempool.count == 0)

        let honest = Transaction.signed(chainID: chainID, key: memberKey, nonce: 0, expiresAtMs: expiry, call: call)
        #expect(validator.admitRelayed(honest))
        #expect(node.mempool.contains(honest.id), "the relayed request is in the pool the node counts and bounds")
        #expect(validator.admitRelayed(honest), "relayed twice, it is still admitted once")
        #expect(node.mempool.count == 1)
    }

    /// A client's batch goes through the node's admission as its transactions
    /// would one by one; what is added waits for the replica and for gossip.
    @Test func aClientsBatch_isAdmittedInOrder_withAnAnswerEach() throws {
        let (directory, config, memberKey) = try validatorFolder(blocks: 1)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try ConsortNode(config: config, logger: Logger(label: "test"))
        let chainID = node.genesis.chainID
        let expiry = wallClockMs() + 600_000
        let calls = try (0..<3).map { _ in GovernanceContract.call(.addMemberKey, MemberKeyChange(key: try PrivateKey.generate().publicKey)) }
        let first = Transaction.signed(chainID: chainID, key: memberKey, nonce: 0, expiresAtMs: expiry, call: calls[0])
        let second = Transaction.signed(chainID: chainID, key: memberKey, nonce: 1, expiresAtMs: expiry, call: calls[1])
        let outsider = Transaction.signed(chainID: chainID, key: try PrivateKey.generate(), nonce: 0, expiresAtMs: expiry, call: calls[2])
        let results = node.submit(batch: [first, outsider, second, first])
        #expect(results.count == 4)
        #expect(results[0] == .success(.added) && results[2] == .success(.added) && results[3] == .success(.alreadyPending))
        #expect(results[1].failureCode == "unknown_sender")
        #expect(node.mempool.count == 2)
        #expect(try node.submit(first) == .alreadyPending, "a single submission takes the same path")
    }
}
