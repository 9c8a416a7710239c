import Consensus
import Ledger
import LedgerCore

/// The consensus shell's reads of the ledger, where a storage error must not
/// pass for an answer: each one records a fault (through `recordFault`) and
/// gives the answer that makes the node do nothing it could regret.
struct FaultRecordingReads {
    let ledger: Ledger
    let recordFault: (String) -> Void

    /// Whether `id` is committed; unreadable counts as committed, so the
    /// transaction is neither proposed nor voted for.
    func isCommittedOrUnreadable(_ id: Hash) -> Bool {
        do {
            return try ledger.isCommitted(id)
        } catch {
            recordFault("cannot read the transaction index for \(id.hex): \(error)")
            return true
        }
    }

    /// The sender's next nonce on the committed chain; unreadable gives nil,
    /// so no nonce order is assumed (execution still rejects a wrong nonce).
    func committedNextNonce(of sender: PublicKey) -> UInt64? {
        do {
            return try ledger.nextNonce(for: sender)
        } catch {
            recordFault("cannot read the nonce of \(sender.hex): \(error)")
            return nil
        }
    }

    /// The state root after an applied block; nil, with a fault, when it cannot be read or is missing.
    func appliedStateRoot(at height: UInt64) -> Hash? {
        do {
            guard let root = try ledger.stateRoot(at: height) else {
                recordFault("block \(height) is applied but its state root is missing from storage")
                return nil
            }
            return root
        } catch {
            recordFault("cannot read the state root of block \(height): \(error)")
            return nil
        }
    }

    /// A committed block with its certificate, to serve a peer; nil, with a
    /// fault, when storage cannot read it or lacks either part (`height` is at
    /// or below the head, so both must be there).
    func certifiedBlock(at height: UInt64) -> CertifiedBlock? {
        do {
            guard let block = try ledger.block(at: height), let certificate = try ledger.certificate(at: height) else {
                recordFault("committed block \(height) or its certificate is missing from storage")
                return nil
            }
            return CertifiedBlock(block: block, certificate: certificate)
        } catch {
            recordFault("cannot read committed block \(height): \(error)")
            return nil
        }
    }

    /// The state root recorded after executing `height`; nil when it has not
    /// executed it, and nil with a fault when it cannot be read.
    func executedStateRoot(at height: UInt64) -> Hash? {
        do {
            return try ledger.stateRoot(at: height)
        } catch {
            recordFault("cannot read the state root of height \(height): \(error)")
            return nil
        }
    }
}
