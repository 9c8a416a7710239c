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
}
