import LedgerCore

// Checkpoints and garbage collection (paper 4.3, docs/consensus.md rules 5 and 6),
// and agreement on execution results through the checkpoint's state root.
extension Replica {
    mutating func onCheckpoint(_ message: Checkpoint) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard message.height > lowWatermark else { return drop(.staleCheckpoint) }
        guard message.height % checkpointInterval == 0 else { return drop(.invalidCheckpoint) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        if checkpointVotes[message.height]?[message.replica] != nil { return drop(.duplicate) }
        recordCheckpoint(message)
    }

    /// Stores a checkpoint vote (at most a few heights per sender, the highest
    /// win) and makes the checkpoint stable on 2f+1 matching votes.
    mutating func recordCheckpoint(_ message: Checkpoint) {
        let sender = message.replica
        checkpointVotes[message.height, default: [:]][sender] = message
        let heights = checkpointVotes.keys.filter { checkpointVotes[$0]?[sender] != nil }.sorted()
        if heights.count > ConsensusLimits.checkpointsPerReplicaMax, let lowest = heights.first {
            checkpointVotes[lowest]?[sender] = nil
            if checkpointVotes[lowest]?.isEmpty == true { checkpointVotes[lowest] = nil }
        }
        guard let votes = checkpointVotes[message.height] else { return }
        let blockHash = message.header.hash
        let matching = votes.values.filter { $0.header.hash == blockHash && $0.stateRoot == message.stateRoot }
        guard matching.count >= quorum else { return }
        let signatures = matching.sorted { $0.replica < $1.replica }.prefix(quorum)
            .map { ValidatorSignature(validatorIndex: $0.replica, signature: $0.signature) }
        adoptStableCheckpoint(CheckpointProof(header: message.header, stateRoot: message.stateRoot, signatures: signatures))
    }

    /// Verifies a stable checkpoint proof: 2f+1 distinct known signers over
    /// the same (height, block hash, state root).
    func isValidCheckpointProof(_ proof: CheckpointProof) -> Bool {
        guard proof.height > 0, proof.height % checkpointInterval == 0, proof.signatures.count >= quorum else { return false }
        let digest = Checkpoint.signingDigest(chainID: chainID, height: proof.height, blockHash: proof.header.hash, stateRoot: proof.stateRoot)
        var previous: Int64 = -1
        for entry in proof.signatures {
            guard Int64(entry.validatorIndex) > previous else { return false }
            previous = Int64(entry.validatorIndex)
            guard isValidSignature(entry.signature, by: entry.validatorIndex, for: digest) else { return false }
        }
        return true
    }

    /// Moves the low watermark to a stable checkpoint and discards the log
    /// below it (paper 4.3). A replica that has not committed that far starts
    /// state transfer; one whose own root differs reports a fault.
    mutating func adoptStableCheckpoint(_ proof: CheckpointProof) {
        let height = proof.height
        guard height > lowHeader.height else { return }
        if let known = committedHashes[height], known != proof.header.hash {
            return reportFault(.certifiedBlockDoesNotExtendChain(height: height))
        }
        stableProof = proof
        lowHeader = proof.header
        dirty = true
        slots = slots.filter { $0.key > height }
        ownVotes = ownVotes.filter { $0.key > height }
        checkpointVotes = checkpointVotes.filter { $0.key > height }
        ownCheckpoints = ownCheckpoints.filter { $0.key >= height }
        committedHashes = committedHashes.filter { $0.key >= height }
        evictBodies(atOrBelow: height)
        if nextProposalHeight <= height { nextProposalHeight = height + 1 }
        checkCertifiedRoot(height: height, root: proof.stateRoot)
        if committedHeight < height { checkBehind() }
    }
}
