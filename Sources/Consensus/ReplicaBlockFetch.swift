import LedgerCore

// Block bodies for re-proposals (docs/consensus.md rule 8): view-change and
// new-view messages name blocks by header only, so a replica keeps the bodies
// it has seen proposed and fetches the ones it lacks from peers, by hash.
extension Replica {
    /// The body of the block with this header if it has no transactions: a
    /// null block (or any empty one) needs no fetching.
    static func emptyBody(of header: BlockHeader) -> Block? {
        header.transactionsRoot == MerkleTree.root(of: []) ? Block(header: header, transactions: []) : nil
    }

    /// Keeps a block body seen proposed above the low watermark. When the
    /// store is full (a window's worth of blocks, or the byte bound), bodies
    /// that no prepared certificate or accepted proposal here names go
    /// first, then the rest; lowest heights first within each.
    mutating func retainBody(_ block: Block, hash: Hash) {
        guard block.height > lowHeader.height, retainedBodies[hash] == nil else { return }
        let size = block.encodedBytesBound
        guard size <= ConsensusLimits.retainedBlockBytesMax else { return }
        retainedBodies[hash] = block
        retainedBodyBytes += size
        // The retained bodies are persisted (rule 11), so they survive a restart.
        dirty = true
        if retainedBodies.count <= Int(window) && retainedBodyBytes <= ConsensusLimits.retainedBlockBytesMax { return }
        var named = Set<Hash>()
        for slot in slots.values {
            if let certificate = slot.prepared { named.insert(certificate.blockHash) }
            if let proposal = slot.proposal { named.insert(proposal.blockHash) }
        }
        let order = retainedBodies.sorted { left, right in
            (named.contains(left.key) ? 1 : 0, left.value.height, left.key) < (named.contains(right.key) ? 1 : 0, right.value.height, right.key)
        }
        for (evicted, body) in order
        where retainedBodies.count > Int(window) || retainedBodyBytes > ConsensusLimits.retainedBlockBytesMax {
            retainedBodies[evicted] = nil
            retainedBodyBytes -= body.encodedBytesBound
        }
    }

    /// Drops the bodies at or below the low watermark (called when it moves).
    mutating func evictBodies(atOrBelow height: UInt64) {
        for (hash, body) in retainedBodies where body.height <= height {
            retainedBodies[hash] = nil
            retainedBodyBytes -= body.encodedBytesBound
            dirty = true
        }
    }

    /// Installs a re-proposed block named by header: with its body when this
    /// replica holds it (or it is empty), otherwise as awaited, to be fetched.
    mutating func installReproposal(_ proposal: ProposedHeader) {
        let height = proposal.header.height
        slots[height, default: Slot()].reproposed = true
        if let body = retainedBodies[proposal.blockHash] ?? Self.emptyBody(of: proposal.header) {
            slots[height]?.prePrepare = PrePrepare(view: proposal.view, block: body, signature: proposal.signature)
            slots[height]?.awaitedBody = nil
        } else {
            slots[height]?.prePrepare = nil
            slots[height]?.awaitedBody = proposal
        }
    }

    /// Hashes of the blocks accepted in this view whose bodies are missing,
    /// ascending by height; committed heights need none (their bodies are in the ledger).
    var awaitedBodyHashes: [Hash] {
        slots.keys.sorted().compactMap { height in
            guard height > committedHeight, let slot = slots[height], slot.prePrepare == nil else { return nil }
            return slot.awaitedBody?.blockHash
        }
    }

    /// Asks one peer (the next in rotation, so a silent or lying peer is
    /// passed over by the next attempt) for the missing bodies.
    mutating func requestMissingBodies() {
        let hashes = Array(Set(awaitedBodyHashes).sorted().prefix(ConsensusLimits.blockRequestHashesMax))
        guard !hashes.isEmpty, validators.count > 1 else { return }
        let peers = (0..<validators.count).filter { $0 != Int(me) }
        let peer = peers[blockRequestRotation % peers.count]
        blockRequestRotation = (blockRequestRotation + 1) % peers.count
        let signature = signer.sign(BlockRequest.signingDigest(chainID: chainID, replica: me, hashes: hashes))
        send(.blockRequest(BlockRequest(replica: me, hashes: hashes, signature: signature)), to: .replica(peer))
    }

    /// Part of ``retransmit()``: renews the per-peer answer allowance and asks again for missing bodies.
    mutating func retransmitBlockRequests() {
        blockRequestsAnswered = [:]
        requestMissingBodies()
    }

    /// Answers a signed block request with the requested bodies this replica
    /// holds, as many as fit in one message, at most
    /// ``ConsensusLimits/blockRequestsAnsweredPerIntervalMax`` times per peer
    /// and retransmit interval.
    mutating func onBlockRequest(_ message: BlockRequest) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard blockRequestsAnswered[message.replica, default: 0] < ConsensusLimits.blockRequestsAnsweredPerIntervalMax else {
            return drop(.blockRequestRateLimited)
        }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        blockRequestsAnswered[message.replica, default: 0] += 1
        var blocks: [Block] = []
        var bytes = 0
        for hash in message.hashes where blocks.count < ConsensusLimits.blockResponseBlocksMax {
            guard let block = heldBody(hash) else { continue }
            let size = block.encodedBytesBound
            if bytes + size > ConsensusLimits.blockResponseBytesMax { break }
            blocks.append(block)
            bytes += size
        }
        guard !blocks.isEmpty else { return }
        send(.blockResponse(BlockResponse(blocks: blocks)), to: .replica(Int(message.replica)))
    }

    /// The body of the block with this hash if this replica holds it.
    func heldBody(_ hash: Hash) -> Block? {
        if let body = retainedBodies[hash] { return body }
        for slot in slots.values {
            if let prePrepare = slot.prePrepare, prePrepare.blockHash == hash { return prePrepare.block }
        }
        return nil
    }

    /// Accepts the blocks of a response whose header hash is one this
    /// replica waits for and whose transactions match the header's root;
    /// anything else is dropped, so a Byzantine peer can inject nothing.
    mutating func onBlockResponse(_ message: BlockResponse) {
        for block in message.blocks {
            let hash = block.hash
            guard let awaited = slots[block.height]?.awaitedBody, awaited.blockHash == hash,
                  MerkleTree.root(of: block.transactions.map(\.id)) == block.header.transactionsRoot else {
                drop(.unrequestedBlock)
                continue
            }
            slots[block.height]?.prePrepare = PrePrepare(view: awaited.view, block: block, signature: awaited.signature)
            slots[block.height]?.awaitedBody = nil
            retainBody(block, hash: hash)
        }
    }
}
