import LedgerCore

/// The account model's nonce rules, in one place: each sender's transactions
/// run in nonce order, each exactly one above the last that ran (execution
/// rejects any other, and a rejected one consumes no nonce); admission takes a
/// nonce from the committed next one up to the genesis window ahead; and a
/// proposal puts each sender's transactions in that order after the blocks
/// already ahead of it. The nonces live in state under the ledger's namespace.
public enum Nonces {
    /// The state key of `sender`'s next nonce.
    public static func key(for sender: PublicKey) -> [UInt8] {
        namespacedKey("ledger", Array("nonce/".utf8) + sender.bytes)
    }

    /// The stored form of a next nonce.
    public static func encode(_ nonce: UInt64) -> [UInt8] {
        var encoder = CanonicalEncoder()
        encoder.write(nonce)
        return encoder.bytes
    }

    /// A stored next nonce; an absent record is nonce 0.
    public static func decode(_ raw: [UInt8]?) throws(StorageError) -> UInt64 {
        guard let raw else { return 0 }
        var decoder = CanonicalDecoder(raw)
        do {
            let value = try decoder.readUInt64("nonce")
            try decoder.finish("nonce")
            return value
        } catch {
            throw .corrupted(reason: "nonce record does not decode: \(error)")
        }
    }

    /// Whether a transaction with `nonce` can never execute once the committed next one is `next`.
    public static func isSpent(_ nonce: UInt64, next: UInt64) -> Bool {
        nonce < next
    }

    /// Whether admission takes `nonce` when the committed next one is `next`.
    public static func admission(of nonce: UInt64, next: UInt64, window: Int) -> NonceAdmission {
        if isSpent(nonce, next: next) { return .tooLow }
        if nonce - next >= UInt64(window) { return .tooFarAhead }
        return .admissible
    }

    /// The next batch, for a block with timestamp `blockTimestampMs`: at most
    /// `limit` of `candidates` (oldest first), each sender's in consecutive
    /// nonce order continuing after `ancestors` (the blocks that run before
    /// the batch, oldest first) or, for a sender not in them, from
    /// `committedNextNonce`; `isAcceptable` must admit each. A transaction
    /// expired at the block's time is never taken: execution would reject it
    /// and its nonce would stay unused, so the sender's later transactions
    /// wait for a new one at that nonce. For the same reason a transaction of
    /// an ancestor that expired at its block's time does not move the
    /// sender's nonce. Several passes, so that a sender's transactions that
    /// arrived out of nonce order still go in one batch.
    public static func orderBatch(_ candidates: [Transaction], after ancestors: [Block], blockTimestampMs: UInt64, limit: Int,
                                  committedNextNonce: (PublicKey) -> UInt64?,
                                  isAcceptable: (Transaction) -> Bool) -> [Transaction] {
        var afterAncestors: [PublicKey: UInt64] = [:]
        for ancestor in ancestors {
            for transaction in ancestor.transactions where !transaction.body.isExpired(atMs: ancestor.header.timestampMs) {
                let sender = transaction.body.sender
                afterAncestors[sender] = max(afterAncestors[sender] ?? 0, transaction.body.nonce &+ 1)
            }
        }
        var expected: [PublicKey: UInt64] = [:]
        var unordered = Set<PublicKey>()
        var batch: [Transaction] = []
        var taken = [Bool](repeating: false, count: candidates.count)
        var progressed = true
        while progressed && batch.count < limit {
            progressed = false
            for (index, transaction) in candidates.enumerated() where !taken[index] && !transaction.body.isExpired(atMs: blockTimestampMs) {
                if batch.count >= limit { break }
                let sender = transaction.body.sender
                if expected[sender] == nil && !unordered.contains(sender) {
                    if let committed = committedNextNonce(sender) {
                        expected[sender] = max(committed, afterAncestors[sender] ?? 0)
                    } else {
                        unordered.insert(sender)
                    }
                }
                if let next = expected[sender], transaction.body.nonce != next { continue }
                guard isAcceptable(transaction) else { continue }
                batch.append(transaction)
                taken[index] = true
                if expected[sender] != nil { expected[sender] = transaction.body.nonce &+ 1 }
                progressed = true
            }
        }
        return batch
    }
}

/// Whether admission takes a nonce.
public enum NonceAdmission: Equatable, Sendable {
    case admissible
    /// Below the sender's committed next nonce: it can never run.
    case tooLow
    /// At or beyond the genesis nonce window ahead of the committed next nonce.
    case tooFarAhead
}
