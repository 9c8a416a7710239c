import LedgerCore

// View changes (paper 4.4 and 4.5.2, docs/consensus.md rules 7 and 8).
extension Replica {
    /// Leaves the current view for `target`: stops taking part in the old
    /// view, persists the target, and multicasts a VIEW-CHANGE with the stable
    /// checkpoint proof and the prepared certificates above it. The timeout
    /// doubles with each view change that has not been followed by a commit.
    mutating func startViewChange(to target: UInt64, because reason: ViewChangeReason) {
        guard target > view, target < ConsensusLimits.viewNumberMax else { return }
        if let current = changingTo, current >= target { return }
        changingTo = target
        viewChangeSentFor = max(viewChangeSentFor, target)
        lastViewChangeReason = reason
        suspicion = nil
        suspectedBy = []
        suspicionStatuses = [:]
        viewChangeAttempts += 1
        viewChangeTicksLeft = timeoutTicks()
        progressTicks = 0
        for height in Array(slots.keys) { slots[height]?.clearView() }
        dirty = true
        guard let change = makeViewChange(target: target) else { return }
        ownViewChange = change
        viewChanges[me] = change
        send(.viewChange(change))
        maybeSendNewView()
    }

    func makeViewChange(target: UInt64) -> ViewChange? {
        let prepared = slots.keys.sorted().compactMap { height -> PreparedCertificate? in
            guard height > lowHeader.height, let certificate = slots[height]?.prepared else { return nil }
            return certificate
        }
        let checkpoint = stableProof.flatMap { $0.height == lowHeader.height ? $0 : nil }
        let digest = ViewChange.signingDigest(chainID: chainID, newView: target, replica: me, checkpoint: checkpoint, prepared: prepared)
        return ViewChange(newView: target, replica: me, checkpoint: checkpoint, prepared: prepared, signature: signer.sign(digest))
    }

    mutating func onViewChange(_ message: ViewChange) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard message.newView < ConsensusLimits.viewNumberMax else { return drop(.viewNumberTooLarge) }
        guard message.newView > view else {
            // A replica still asking for a view at or below the one we are in
            // missed its new-view message: send ours (only on a valid signature).
            if lastNewView?.view == view, changingTo == nil,
               isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) {
                resendNewView(to: message.replica)
            }
            return drop(.staleViewChange)
        }
        if let existing = viewChanges[message.replica], existing.newView >= message.newView {
            return drop(existing.newView == message.newView ? .duplicate : .staleViewChange)
        }
        guard isValidViewChange(message) else { return drop(.invalidViewChange) }
        viewChanges[message.replica] = message
        joinHigherView()
        if changingTo == nil {
            // A replica that asks for a later view has left this one: it suspects this view's primary (rule 9).
            suspectedBy.insert(message.replica)
            suspectedInView.insert(message.replica)
            leaveViewIfSuspected()
        }
        maybeSendNewView()
    }

    /// Joins a higher view only when f+1 replicas ask for views above ours
    /// (paper 4.5.2), so one Byzantine replica's huge view number moves
    /// nobody. The view joined is the highest that f+1 of them ask for, hence
    /// one at least one honest replica wants.
    mutating func joinHigherView() {
        let current = changingTo ?? view
        let higher = viewChanges.values.filter { $0.replica != me && $0.newView > current }.map(\.newView).sorted(by: >)
        guard higher.count > maxFaulty else { return }
        startViewChange(to: higher[maxFaulty], because: .joinedOtherReplicas)
    }

    /// Checks a VIEW-CHANGE: signature, checkpoint proof, and every prepared
    /// certificate (primary's signature, 2f distinct backups' prepares, view
    /// below the new view, height within the watermark window of its checkpoint).
    func isValidViewChange(_ message: ViewChange) -> Bool {
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else { return false }
        if let checkpoint = message.checkpoint, !isValidCheckpointProof(checkpoint) { return false }
        let base = message.checkpointHeight
        for certificate in message.prepared {
            guard certificate.view < message.newView, certificate.height > base, certificate.height <= base + window,
                  isValidPreparedCertificate(certificate) else { return false }
        }
        return true
    }

    /// Checks a prepared certificate from its header alone: the primary's
    /// pre-prepare signature covers the header's hash, and so do the prepares.
    func isValidPreparedCertificate(_ certificate: PreparedCertificate) -> Bool {
        let primaryIndex = primary(of: certificate.view)
        guard isValidSignature(certificate.signature, by: primaryIndex, for: certificate.prePrepareDigest(chainID: chainID)) else { return false }
        guard certificate.prepares.count >= quorum - 1 else { return false }
        let digest = certificate.blockHash
        var previous: Int64 = -1
        for prepare in certificate.prepares {
            guard Int64(prepare.replica) > previous, prepare.replica != primaryIndex, prepare.view == certificate.view,
                  prepare.height == certificate.height, prepare.blockHash == digest,
                  isValidSignature(prepare.signature, by: prepare.replica, for: prepare.signingDigest(chainID: chainID)) else { return false }
            previous = Int64(prepare.replica)
        }
        return true
    }

    /// The new primary sends NEW-VIEW once it holds 2f+1 view-change messages
    /// for the view it leads (paper 4.4).
    mutating func maybeSendNewView() {
        guard let target = changingTo, primary(of: target) == me else { return }
        let set = viewChanges.values.filter { $0.newView == target }.sorted { $0.replica < $1.replica }
        guard set.count >= quorum else { return }
        let chosen = Array(set.prefix(quorum))
        let plan = Replica.newViewPlan(viewChanges: chosen, newView: target, configuration: configuration)
        let proposals = plan.headers.map { header in
            NewViewProposal(header: header,
                            signature: signer.sign(PrePrepare.signingDigest(chainID: chainID, view: target, height: header.height, blockHash: header.hash)))
        }
        let digest = NewView.signingDigest(chainID: chainID, view: target, viewChanges: chosen, proposals: proposals)
        let message = NewView(view: target, viewChanges: chosen, proposals: proposals, signature: signer.sign(digest))
        send(.newView(message))
        enterNewView(message, base: plan.checkpoint)
    }

    /// Accepts ⟨NEW-VIEW, v+1, V, O⟩ after checking the primary's signature,
    /// every message in V, and that O is exactly what V determines.
    mutating func onNewView(_ message: NewView) {
        guard message.view < ConsensusLimits.viewNumberMax else { return drop(.viewNumberTooLarge) }
        // A new view below the one this replica asks for is entered too, without voting in it (rule 7).
        guard message.view > view else { return drop(.staleViewChange) }
        let primaryIndex = primary(of: message.view)
        guard primaryIndex != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: primaryIndex, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        guard message.viewChanges.count >= quorum,
              message.viewChanges.allSatisfy({ $0.newView == message.view && isValidViewChange($0) }) else {
            return drop(.invalidNewView)
        }
        let plan = Replica.newViewPlan(viewChanges: message.viewChanges, newView: message.view, configuration: configuration)
        guard plan.headers.count == message.proposals.count else { return drop(.newViewMismatch) }
        for (expected, proposal) in zip(plan.headers, message.proposals) {
            guard proposal.blockHash == expected.hash,
                  isValidSignature(proposal.signature, by: primaryIndex, for: proposal.signingDigest(chainID: chainID, view: message.view)) else {
                return drop(.newViewMismatch)
            }
        }
        enterNewView(message, base: plan.checkpoint)
    }

    /// Enters the new view: adopts the checkpoint O starts from, installs O's
    /// re-proposals (with the bodies this replica holds; it asks peers for
    /// the others), persists the view, and re-forwards pending requests.
    mutating func enterNewView(_ message: NewView, base: CheckpointProof?) {
        view = message.view
        changingTo = nil
        ownVotes = [:]
        ownViewChange = nil
        lastNewView = message
        commitsInView = 0
        progressTicks = 0
        calmTicks = 0
        forwardedAt = [:]
        newViewResentAt = [:]
        votesResentAt = [:]
        suspicion = nil
        suspectedBy = []
        suspicionStatuses = [:]
        suspectedInView = []
        suspicionEvidence = [:]
        leftOnStatuses = []
        viewChangeTicksLeft = 0
        viewChanges = viewChanges.filter { $0.value.newView > view }
        for height in Array(slots.keys) { slots[height]?.clearView() }
        dirty = true
        if let base { adoptStableCheckpoint(base) }
        if halted { return }
        var last = max(lowHeader.height, committedHeight)
        for proposal in message.proposals where proposal.height > lowHeader.height && proposal.height <= highWatermark {
            let height = proposal.height
            if let committed = committedHashes[height], committed != proposal.blockHash {
                return reportFault(.newViewContradictsCommittedBlock(height: height))
            }
            installReproposal(ProposedHeader(view: message.view, header: proposal.header, signature: proposal.signature))
            if isPrimary { recordVote(height: height, blockHash: proposal.blockHash, commit: false) }
            last = max(last, height)
        }
        nextProposalHeight = last + 1
        requestMissingBodies()
        if !isPrimary && !pool.isEmpty {
            forward(oldestPending(ConsensusLimits.forwardTransactionsMax))
        }
    }

    /// Computes O from V (docs/consensus.md rule 8), as a pure function so that the
    /// primary and every backup get the same answer: start from the highest
    /// stable checkpoint in V; for each height up to the highest prepared one,
    /// take the block of the highest-view prepared certificate if it extends
    /// the previous entry of O, and otherwise a null block. Null blocks are a
    /// function of (previous header, new view) only. Works on headers: the
    /// transactions are not needed to decide O.
    public static func newViewPlan(viewChanges: [ViewChange], newView: UInt64, configuration: ReplicaConfiguration)
        -> (checkpoint: CheckpointProof?, headers: [BlockHeader])
    {
        var checkpoint: CheckpointProof?
        for change in viewChanges.sorted(by: { $0.replica < $1.replica }) {
            if let proof = change.checkpoint, proof.height > (checkpoint?.height ?? 0) { checkpoint = proof }
        }
        let baseHeight = checkpoint?.height ?? 0
        var best: [UInt64: PreparedCertificate] = [:]
        for change in viewChanges {
            for certificate in change.prepared where certificate.height > baseHeight {
                if let current = best[certificate.height] {
                    let better = certificate.view > current.view
                        || (certificate.view == current.view && certificate.blockHash < current.blockHash)
                    if better { best[certificate.height] = certificate }
                } else {
                    best[certificate.height] = certificate
                }
            }
        }
        guard let top = best.keys.max() else { return (checkpoint, []) }
        var previous = checkpoint?.header ?? configuration.genesisHeader
        var headers: [BlockHeader] = []
        var height = baseHeight + 1
        while height <= top {
            let header: BlockHeader
            if let certificate = best[height], certificate.header.parentHash == previous.hash {
                header = certificate.header
            } else {
                header = nullBlock(after: previous, newView: newView, configuration: configuration).header
            }
            headers.append(header)
            previous = header
            height += 1
        }
        return (checkpoint, headers)
    }

    /// The empty block that fills a gap in O: it extends `previous`, carries
    /// its state claim forward, and is proposed by the new view's primary.
    public static func nullBlock(after previous: BlockHeader, newView: UInt64, configuration: ReplicaConfiguration) -> Block {
        let validators = configuration.validators
        let proposer = validators[Int(newView % UInt64(validators.count))].nodeKey
        let header = BlockHeader(
            height: previous.height + 1, parentHash: previous.hash,
            timestampMs: previous.timestampMs == UInt64.max ? UInt64.max : previous.timestampMs + 1,
            proposer: proposer, transactionsRoot: MerkleTree.root(of: []),
            stateHeight: previous.stateHeight, stateRoot: previous.stateRoot, validatorSetHash: validators.hash)
        return Block(header: header, transactions: [])
    }
}
