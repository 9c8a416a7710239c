import LedgerCore

// Normal-case operation (paper 4.2) and proposing (4.1, batching in 5.1.4).
extension Replica {
    /// Accepts ⟨PRE-PREPARE, v, n, d⟩ as in docs/consensus.md rule 2: right view, not
    /// changing views, signed by that view's primary, within the watermarks,
    /// and no other digest accepted (or signed by us) for (v, n).
    mutating func onPrePrepare(_ message: PrePrepare) {
        let height = message.height
        guard message.view >= view else { return drop(.oldView) }
        guard message.view == view else { return drop(.futureView) }
        guard changingTo == nil else { return drop(.viewChanging) }
        guard primary(of: view) != me else { return drop(.fromSelf) }
        guard isValidSignature(message.signature, by: primary(of: view), for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        guard height > lowWatermark && height <= highWatermark else { return drop(.outsideWatermarks) }
        guard height > committedHeight else { return drop(.alreadyCommitted) }
        let digest = message.blockHash
        if let existing = slots[height]?.prePrepare {
            return drop(existing.blockHash == digest ? .duplicate : .conflictingPrePrepare)
        }
        if let awaited = slots[height]?.awaitedBody, awaited.blockHash != digest { return drop(.conflictingPrePrepare) }
        if let vote = ownVotes[height], vote.blockHash != digest { return drop(.conflictsWithOwnVote) }
        // A re-proposal whose body was awaited keeps its re-proposed flag: the primary resent it whole.
        slots[height, default: Slot()].prePrepare = message
        slots[height]?.awaitedBody = nil
        retainBody(message.block, hash: digest)
    }

    /// Collects ⟨PREPARE, v, n, d, i⟩ from backups of the current view.
    mutating func onPrepare(_ message: Prepare) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard message.view >= view else { return drop(.oldView) }
        guard message.view == view else { return drop(.futureView) }
        guard changingTo == nil else { return drop(.viewChanging) }
        guard message.replica != primary(of: view) else { return drop(.prepareFromPrimary) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        guard message.height > lowWatermark && message.height <= highWatermark else { return drop(.outsideWatermarks) }
        if let existing = slots[message.height]?.prepares[message.replica] {
            return drop(existing.blockHash == message.blockHash ? .duplicate : .conflictingVote)
        }
        slots[message.height, default: Slot()].prepares[message.replica] = message
    }

    /// Collects ⟨COMMIT, v, n, d, i⟩ of the current view; its signature is a
    /// commit vote, so 2f+1 of them are the block's certificate.
    mutating func onCommit(_ message: Commit) {
        guard Int(message.replica) < validators.count else { return drop(.unknownSender) }
        guard message.replica != me else { return drop(.fromSelf) }
        guard message.view >= view else { return drop(.oldView) }
        guard message.view == view else { return drop(.futureView) }
        guard changingTo == nil else { return drop(.viewChanging) }
        guard isValidSignature(message.signature, by: message.replica, for: message.signingDigest(chainID: chainID)) else {
            return drop(.badSignature)
        }
        guard message.height > lowWatermark && message.height <= highWatermark else { return drop(.outsideWatermarks) }
        guard message.height > committedHeight else { return drop(.alreadyCommitted) }
        if let existing = slots[message.height]?.commits[message.replica] {
            return drop(existing.blockHash == message.blockHash ? .duplicate : .conflictingVote)
        }
        slots[message.height, default: Slot()].commits[message.replica] = message
    }

    /// The header at `height` if this replica knows which block sits there in
    /// its current view: committed, the stable checkpoint, or accepted.
    func knownHeader(at height: UInt64) -> BlockHeader? {
        if height == committedHeight { return committedHeader }
        if height == lowHeader.height { return lowHeader }
        if height > committedHeight, let proposal = slots[height]?.proposal { return proposal.header }
        return nil
    }

    /// Uncommitted accepted blocks strictly between the committed head and
    /// `height`, oldest first; nil if one is missing.
    func pendingAncestors(below height: UInt64) -> [Block]? {
        var blocks: [Block] = []
        var current = max(committedHeight, lowHeader.height) + 1
        while current < height {
            guard let block = slots[current]?.prePrepare?.block else { return nil }
            blocks.append(block)
            current += 1
        }
        return blocks
    }

    /// Advances every height of the log as far as the rules allow: prepare,
    /// prepared, commit, committed. Run after every input.
    mutating func progress() {
        guard !halted else { return }
        if changingTo == nil {
            for height in slots.keys.sorted() {
                // A check below may start a view change; no vote of the old view follows it.
                guard changingTo == nil else { break }
                tryPrepare(height)
                checkPrepared(height)
                tryCommit(height)
            }
        }
        checkCommitted()
        tryPropose()
    }

    /// Checks the proposal at `height` and, if it is valid, sends PREPARE.
    mutating func tryPrepare(_ height: UInt64) {
        guard votesInView, let slot = slots[height], let proposal = slot.proposal, slot.sentPrepare == nil, !slot.rejected,
              primary(of: view) != me else { return }
        // A replica that has not caught up with the stable checkpoint cannot judge proposals.
        guard committedHeight >= lowHeader.height else { return }
        let digest = proposal.blockHash
        if let vote = ownVotes[height], vote.blockHash != digest { return }
        if height <= committedHeight {
            // Re-proposed in a new view: vote only for the block we committed (its body is in the ledger).
            guard committedHashes[height] == digest else { return }
        } else {
            // A re-proposal whose body is still being fetched waits: it is checked whole before any vote.
            guard let block = slot.prePrepare?.block else { return }
            guard let parent = knownHeader(at: height - 1), let ancestors = pendingAncestors(below: height) else { return }
            switch checkProposal(block, parent: parent, ancestors: ancestors, reproposed: slot.reproposed) {
            case .valid: break
            case .waitForExecution, .waitForClock: return
            case .invalid:
                slots[height]?.rejected = true
                return drop(.invalidProposal)
            }
        }
        let signature = signer.sign(Prepare.signingDigest(chainID: chainID, view: view, height: height, blockHash: digest, replica: me))
        let prepare = Prepare(view: view, height: height, blockHash: digest, replica: me, signature: signature)
        recordVote(height: height, blockHash: digest, commit: false)
        slots[height]?.sentPrepare = prepare
        slots[height]?.prepares[prepare.replica] = prepare
        send(.prepare(prepare))
        if height > committedHeight && !slot.reproposed, let block = slot.prePrepare?.block {
            noteProgress()
            checkCensorship(block)
        }
    }

    /// The per-request half of rule 9: an honest primary cuts a block short
    /// of the limit only when it has nothing more it can propose, so a short
    /// block that omits a request this backup forwarded at least a timeout
    /// ago, and that could have gone in it, shows the primary ignoring that
    /// request. The backup then suspects the primary at once.
    mutating func checkCensorship(_ block: Block) {
        guard !isPrimary, changingTo == nil, !forwardedAt.isEmpty,
              block.transactions.count < configuration.parameters.blockTransactionsMax,
              let ancestors = pendingAncestors(below: block.height + 1) else { return }
        let threshold = UInt64(timeoutTicks())
        let inFlight = inFlightTransactions(ancestors)
        var overdue: [Transaction] = []
        for transaction in pool.oldest(ConsensusLimits.censorshipCheckRequestsMax) {
            let id = transaction.id
            guard let forwarded = forwardedAt[id], tickCount >= forwarded &+ threshold, !inFlight.contains(id) else { continue }
            overdue.append(transaction)
        }
        guard !overdue.isEmpty,
              let censored = validator.orderBatch(overdue, after: unexecutedBlocks + ancestors, blockTimestampMs: block.header.timestampMs, limit: 1).first
        else { return }
        suspectPrimary(because: .requestCensored(censored.id))
    }

    /// The header and content checks a backup makes before preparing
    /// (docs/consensus.md rule 2). The header rules are the ledger's own
    /// (`BlockHeader.checkFollows`), so a block this replica prepares is one
    /// its ledger will execute; a fresh proposal must name this view's primary
    /// as proposer (a re-proposal from a new view's O keeps the proposer of the
    /// view it was first prepared in), and a state claim this replica has not
    /// executed yet is judged once it has.
    func checkProposal(_ block: Block, parent: BlockHeader, ancestors: [Block], reproposed: Bool) -> ProposalCheck {
        let header = block.header
        let proposer: PublicKey? = reproposed ? nil : validators[Int(primary(of: view))].nodeKey
        let stateHeight = header.stateHeight
        let localRoot = executedRoots[stateHeight] ?? (stateHeight <= executedHeight ? validator.executedStateRoot(at: stateHeight) : nil)
        do {
            try header.checkFollows(parent, validators: validators, proposer: proposer, localStateRoot: localRoot)
        } catch {
            if case .stateNotExecuted = error, header.stateHeight > executedHeight { return .waitForExecution }
            return .invalid
        }
        guard block.transactions.count <= configuration.parameters.blockTransactionsMax else { return .invalid }
        if header.timestampMs > clockMs &+ configuration.timing.timestampDriftMsMax {
            // Before its first tick a (re)started replica has no clock to judge a timestamp by.
            return tickCount == 0 ? .waitForClock : .invalid
        }
        var seen = Set<Hash>()
        for ancestor in ancestors { for transaction in ancestor.transactions { seen.insert(transaction.id) } }
        for transaction in block.transactions {
            guard seen.insert(transaction.id).inserted else { return .invalid }
        }
        return validator.isValid(block: block, pendingAncestors: ancestors) ? .valid : .invalid
    }

    /// Prepared(m, v, n, i) (paper 4.2, rule 3): the pre-prepare and 2f
    /// matching prepares from distinct backups. Keeps the certificate, which
    /// is persisted before the COMMIT that depends on it is sent.
    mutating func checkPrepared(_ height: UInt64) {
        guard let slot = slots[height], let proposal = slot.proposal else { return }
        if let prepared = slot.prepared, prepared.view == view { return }
        let digest = proposal.blockHash
        let matching = slot.prepares.values
            .filter { $0.blockHash == digest && $0.view == view && $0.replica != primary(of: view) }
            .sorted { $0.replica < $1.replica }
        guard matching.count >= quorum - 1 else { return }
        let certificate = PreparedCertificate(view: proposal.view, header: proposal.header, signature: proposal.signature,
                                              prepares: Array(matching.prefix(quorum - 1)))
        slots[height]?.prepared = certificate
        dirty = true
    }

    /// Sends COMMIT once prepared, under the pipelining rule: the block below
    /// must be at or below the stable checkpoint, committed, or committed-to
    /// by us in this same view. So whenever height n+1 may commit in view v,
    /// f+1 honest replicas hold view-v prepared certificates for n as well,
    /// and every later new view re-proposes n (see docs/consensus.md).
    mutating func tryCommit(_ height: UInt64) {
        guard votesInView, let slot = slots[height], let prepared = slot.prepared, prepared.view == view, slot.sentCommit == nil else { return }
        // A re-proposal (docs/consensus.md rule 8) commits only once its body is
        // here and, at a backup, checked (its PREPARE sent); the new primary
        // built O from prepared certificates. A committed height needs neither.
        if slot.reproposed && height > committedHeight {
            guard slot.prePrepare != nil, isPrimary || slot.sentPrepare != nil else { return }
        }
        let below = height - 1
        let chainReady = below <= lowHeader.height || below <= committedHeight || slots[below]?.sentCommit != nil
        guard chainReady else { return }
        // A block that does not extend the chain below it can never execute:
        // commit to it and an honest replica could only stop on it.
        if let parent = expectedParentHash(below: below), prepared.header.parentHash != parent { return }
        let digest = prepared.blockHash
        if let vote = ownVotes[height], vote.blockHash != digest { return }
        let signature = signer.sign(CommitVote.digest(chainID: chainID, height: height, view: view, blockHash: digest))
        let commit = Commit(view: view, height: height, blockHash: digest, replica: me, signature: signature)
        recordVote(height: height, blockHash: digest, commit: true)
        slots[height]?.sentCommit = commit
        slots[height]?.commits[commit.replica] = commit
        send(.commit(commit))
    }

    /// The hash the block above `below` must name as its parent, when this
    /// replica knows it: the stable checkpoint's, the committed chain's, or
    /// the block it committed to at `below` in this view.
    func expectedParentHash(below: UInt64) -> Hash? {
        if below == lowHeader.height { return lowHeader.hash }
        if let committed = committedHashes[below] { return committed }
        return slots[below]?.sentCommit?.blockHash
    }

    mutating func recordVote(height: UInt64, blockHash: Hash, commit: Bool) {
        let previous = ownVotes[height]
        precondition(previous == nil || previous?.blockHash == blockHash, "never sign two digests for one (view, height)")
        let vote = OwnVote(height: height, blockHash: blockHash, commitSent: commit || (previous?.commitSent ?? false))
        if vote != previous {
            ownVotes[height] = vote
            dirty = true
        }
    }

    /// Committed (rule 4): 2f+1 matching commits of one view for a block we
    /// hold; executes strictly in height order.
    mutating func checkCommitted() {
        while !halted {
            let height = committedHeight + 1
            guard height > lowHeader.height || committedHeight >= lowHeader.height else { return }
            guard let slot = slots[height], let prePrepare = slot.prePrepare else { return }
            let digest = prePrepare.blockHash
            let votes = slot.commits.values.filter { $0.blockHash == digest && $0.view == prePrepare.view }
            guard votes.count >= quorum else { return }
            guard prePrepare.block.header.parentHash == committedHeader.hash else {
                return reportFault(.certifiedBlockDoesNotExtendChain(height: height))
            }
            let signatures = votes.sorted { $0.replica < $1.replica }.prefix(quorum)
                .map { ValidatorSignature(validatorIndex: $0.replica, signature: $0.signature) }
            let certificate = CommitCertificate(height: height, view: prePrepare.view, blockHash: digest, signatures: signatures)
            applyCommit(prePrepare.block, certificate: certificate)
        }
    }

    /// The ids of the transactions in the uncommitted blocks below a
    /// proposal, from the cache when those blocks are unchanged.
    mutating func inFlightTransactions(_ ancestors: [Block]) -> Set<Hash> {
        inFlightTransactions(ancestors, hashes: ancestors.map { slots[$0.height]?.prePrepare?.blockHash ?? $0.hash })
    }

    /// The same, for ancestors whose hashes the caller already has.
    mutating func inFlightTransactions(_ ancestors: [Block], hashes: [Hash]) -> Set<Hash> {
        if let cached = inFlightCache, cached.ancestors == hashes { return cached.ids }
        var ids = Set<Hash>()
        for ancestor in ancestors {
            for transaction in ancestor.transactions { ids.insert(transaction.id) }
        }
        inFlightCache = (hashes, ids)
        return ids
    }

    /// The longest prefix of `ordered` whose block stays within the ledger's
    /// block size limit, counting each transaction at its largest encoding:
    /// a larger block would not decode at any replica. A prefix keeps the
    /// application's order valid.
    static func prefixWithinBlockBytes(_ ordered: [Transaction]) -> [Transaction] {
        var bytes = Limits.blockHeaderBytesBound
        for (count, transaction) in ordered.enumerated() {
            bytes += transaction.encodedBytesBound
            if bytes > Limits.blockBytesMax { return Array(ordered.prefix(count)) }
        }
        return ordered
    }

    /// The primary proposes the next height when a batch is full or has waited
    /// `batchTicks`, within the high watermark.
    mutating func tryPropose() {
        while !halted && changingTo == nil && isPrimary && votesInView && committedHeight >= lowHeader.height {
            let height = max(nextProposalHeight, committedHeight + 1)
            guard height <= highWatermark, height <= committedHeight + ConsensusLimits.proposalsInFlightMax,
                  ownVotes[height] == nil, slots[height]?.proposal == nil else { return }
            let limit = configuration.parameters.blockTransactionsMax
            // A batch is sent only when full or when it has waited `batchTicks`; a
            // full one needs at least `limit` pooled requests. Deciding this before
            // the scans below (which ask the validator about every request) keeps
            // each step cheap while requests arrive faster than blocks are cut.
            guard pool.count >= limit || ticksSinceProposal >= configuration.timing.batchTicks else { return }
            guard let parent = knownHeader(at: height - 1), let ancestors = pendingAncestors(below: height) else { return }
            // Acceptability only ever goes from yes to no, so an attempt that
            // found nothing finds nothing again until one of these changes.
            // The pre-prepares hold each ancestor's hash; no need to hash the headers again on every input.
            let ancestorHashes = ancestors.map { slots[$0.height]?.prePrepare?.blockHash ?? $0.hash }
            let attempt = ProposalAttempt(height: height, poolVersion: pool.version, ancestors: ancestorHashes,
                                          executedHeight: executedHeight,
                                          timerExpired: ticksSinceProposal >= configuration.timing.batchTicks)
            guard attempt != fruitlessProposal else { return }
            let inFlight = inFlightTransactions(ancestors, hashes: attempt.ancestors)
            let candidates = pool.oldestFirst.filter { !inFlight.contains($0.id) }
            let timestampMs = max(parent.timestampMs &+ 1, clockMs)
            let ordered = candidates.isEmpty
                ? [] : validator.orderBatch(candidates, after: unexecutedBlocks + ancestors, blockTimestampMs: timestampMs, limit: limit)
            let batch = Replica.prefixWithinBlockBytes(ordered)
            let full = batch.count >= limit || batch.count < ordered.count
            guard !batch.isEmpty, full || attempt.timerExpired else {
                fruitlessProposal = attempt
                return
            }
            var stateHeight = min(executedHeight, height - 1)
            var stateRoot = executedRoots[stateHeight] ?? configuration.genesisStateRoot
            if stateHeight < parent.stateHeight || executedRoots[stateHeight] == nil {
                stateHeight = parent.stateHeight
                stateRoot = parent.stateRoot
            }
            let header = BlockHeader(
                height: height, parentHash: parent.hash, timestampMs: timestampMs,
                proposer: signer.publicKey, transactionsRoot: MerkleTree.root(of: batch.map(\.id)),
                stateHeight: stateHeight, stateRoot: stateRoot, validatorSetHash: validators.hash)
            let block = Block(header: header, transactions: batch)
            let signature = signer.sign(PrePrepare.signingDigest(chainID: chainID, view: view, height: height, blockHash: block.hash))
            let prePrepare = PrePrepare(view: view, block: block, signature: signature)
            recordVote(height: height, blockHash: block.hash, commit: false)
            slots[height, default: Slot()].prePrepare = prePrepare
            retainBody(block, hash: prePrepare.blockHash)
            send(.prePrepare(prePrepare))
            nextProposalHeight = height + 1
            ticksSinceProposal = 0
            noteProgress()
        }
    }
}

/// A backup's verdict on a proposal.
enum ProposalCheck: Equatable {
    case valid
    /// Never prepare it in this view.
    case invalid
    /// Its state claim names a height this replica has not executed yet; check again after execution.
    case waitForExecution
    /// This replica has not read its clock since it started; check again on the first tick.
    case waitForClock
}

/// What a proposal attempt depended on: the height, the pool, the blocks in
/// flight below it, how far execution had got, and whether the batch timer had run out.
struct ProposalAttempt: Equatable {
    var height: UInt64
    var poolVersion: UInt64
    var ancestors: [Hash]
    /// The validator's ledger (and so what it accepts and how it orders) moves with execution.
    var executedHeight: UInt64
    var timerExpired: Bool
}
