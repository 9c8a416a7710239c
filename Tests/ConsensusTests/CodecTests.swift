import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

/// One valid message of every kind.
func sampleMessages(_ cluster: Cluster) -> [ConsensusMessage] {
    let (block, changes) = preparedSetup(cluster)
    let prePrepare = cluster.prePrepare(view: 0, block: block, by: 0)
    let commitDigest = CommitVote.digest(chainID: cluster.chainID, height: 1, view: 0, blockHash: block.hash)
    let commit = Commit(view: 0, height: 1, blockHash: block.hash, replica: 2, signature: cluster.signer(2).sign(commitDigest))
    let checkpoint = Checkpoint(header: block.header, stateRoot: cluster.genesisRoot, replica: 1,
                                signature: cluster.signer(1).sign(Checkpoint.signingDigest(chainID: cluster.chainID, height: 1,
                                                                                         blockHash: block.hash, stateRoot: cluster.genesisRoot)))
    let plan = Replica.newViewPlan(viewChanges: changes, newView: 1, configuration: cluster.configuration(1))
    let newView = cluster.newView(1, viewChanges: changes, headers: plan.headers, by: 1)
    let hashes = [block.hash, Hash.tagged("test/other", [1])].sorted()
    let request = BlockRequest(replica: 2, hashes: hashes, signature: cluster.signer(2).sign(
        BlockRequest.signingDigest(chainID: cluster.chainID, replica: 2, hashes: hashes)))
    let forward = Forward(replica: 2, transactions: [cluster.transaction(3)], signature: cluster.signer(2).sign(
        Forward.signingDigest(chainID: cluster.chainID, replica: 2, transactions: [cluster.transaction(3)])))
    let status = Status(replica: 3, view: 2, committedHeight: 42, suspectsPrimary: true, signature: cluster.signer(3).sign(
        Status.signingDigest(chainID: cluster.chainID, replica: 3, view: 2, committedHeight: 42, suspectsPrimary: true)))
    return [.prePrepare(prePrepare), .prepare(cluster.prepare(view: 0, block: block, by: 1)), .commit(commit),
            .checkpoint(checkpoint), .viewChange(changes[0]), .newView(newView), .forward(forward), .status(status),
            .blockRequest(request), .blockResponse(BlockResponse(blocks: [block]))]
}

@Test func codec_everyMessageKind_roundTrips() throws {
    let cluster = Cluster()
    for message in sampleMessages(cluster) {
        let decoded = try ConsensusMessage.decode(wire: message.canonicalBytes)
        #expect(decoded == message)
        #expect(decoded.canonicalBytes == message.canonicalBytes)
    }
}

@Test func codec_truncatedOrTrailingBytes_areRejected() {
    let cluster = Cluster()
    for message in sampleMessages(cluster) {
        let bytes = message.canonicalBytes
        #expect(throws: CodecError.self) { try ConsensusMessage.decode(wire: bytes + [0]) }
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
            #expect(throws: CodecError.self) { try ConsensusMessage.decode(wire: Array(bytes.prefix(cut))) }
        }
    }
}

@Test func codec_unknownTag_isRejected() {
    #expect(throws: CodecError.unknownTag(field: "consensus message tag", tag: 10)) {
        try ConsensusMessage.decode(wire: [10, 0, 0])
    }
}

@Test func codec_oversizedCounts_areRejectedBeforeAllocating() {
    // A view-change claiming 2^32 prepared certificates.
    var encoder = CanonicalEncoder()
    encoder.write(UInt64(4))  // view-change tag
    encoder.write(UInt64(1))  // new view
    encoder.write(UInt32(1))  // replica
    encoder.write(false)      // no checkpoint
    encoder.write(UInt64(1) << 32)
    #expect(throws: CodecError.lengthExceedsLimit(field: "view-change prepared", length: UInt64(1) << 32,
                                                  limit: ConsensusLimits.preparedCertificatesMax)) {
        try ConsensusMessage.decode(wire: encoder.bytes)
    }
    let huge = [UInt8](repeating: 0, count: ConsensusLimits.messageBytesMax + 1)
    #expect(throws: CodecError.self) { try ConsensusMessage.decode(wire: huge) }
}

@Test func codec_blockWhoseTransactionsDoNotMatchItsRoot_isRejected() {
    let cluster = Cluster()
    var block = cluster.block(height: 1, parent: cluster.genesis, transactions: [cluster.transaction(0)])
    block.transactions = [cluster.transaction(1)]  // claimed root no longer matches
    let message = ConsensusMessage.prePrepare(cluster.prePrepare(view: 0, block: block, by: 0))
    #expect(throws: CodecError.self) { try ConsensusMessage.decode(wire: message.canonicalBytes) }
}

@Test func codec_unsortedSigners_areRejected() {
    let cluster = Cluster()
    let (_, changes) = preparedSetup(cluster)
    guard var certificate = changes[0].prepared.first else {
        Issue.record("setup has a certificate")
        return
    }
    var encoder = CanonicalEncoder()
    encoder.write(certificate.view)
    encoder.write(certificate.header)
    encoder.write(certificate.signature)
    certificate.prepares.reverse()
    encoder.write(UInt64(certificate.prepares.count))
    for prepare in certificate.prepares { encoder.write(prepare) }
    #expect(throws: CodecError.self) { try PreparedCertificate(canonicalBytes: encoder.bytes) }
}

@Test func codec_randomAndMutatedBytes_neverTrapAndNeverMoveAReplica() {
    let cluster = Cluster()
    let samples = sampleMessages(cluster).map(\.canonicalBytes)
    var random = SplitMix64(seed: 99)
    var replica = cluster.replica(1)
    var decodedCount = 0
    for round in 0..<5_000 {
        var bytes: [UInt8]
        if round % 2 == 0 {
            bytes = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        } else {
            bytes = samples[random.below(samples.count)]
            for _ in 0..<(1 + random.below(3)) where !bytes.isEmpty {
                bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            }
        }
        if (try? ConsensusMessage.decode(wire: bytes)) != nil { decodedCount += 1 }
        _ = replica.step(.messageBytes(bytes))
    }
    #expect(replica.view == 0)
    #expect(replica.committedHeight == 0)
    // Whatever still decodes after mutation fails a signature or another check: all but a few are dropped.
    let dropped = replica.dropCounts.values.reduce(0, +)
    #expect(dropped >= 4_950, "\(replica.dropCounts)")
    #expect((replica.dropCounts[.malformed] ?? 0) >= 5_000 - decodedCount)
    #expect(decodedCount < 2_500)
}

@Test func codec_persistentState_roundTripsAndRejectsTrailingBytes() throws {
    let cluster = Cluster()
    let (block, changes) = preparedSetup(cluster)
    let state = PersistentState(view: 3, changingTo: 4, viewChangeAttempts: 2,
                                ownVotes: [OwnVote(height: 1, blockHash: block.hash, commitSent: true)],
                                prepared: changes[0].prepared, stableCheckpoint: nil, blockBodies: [block])
    #expect(try PersistentState(canonicalBytes: state.canonicalBytes) == state)
    var bodiless = state
    bodiless.blockBodies = []
    var twice = CanonicalEncoder()
    twice.write([block, block])
    // The record without bodies has the empty body list's count before its last fields; list one body twice instead.
    var last = CanonicalEncoder()
    last.write(bodiless.newView)
    last.write(bodiless.viewChangeSentFor)
    let repeated = Array(bodiless.canonicalBytes.dropLast(1 + last.bytes.count)) + twice.bytes + last.bytes
    #expect(throws: CodecError.self, "a body listed twice") { try PersistentState(canonicalBytes: repeated) }
    #expect(throws: CodecError.self) { try PersistentState(canonicalBytes: state.canonicalBytes + [1]) }
}

@Test func codec_persistentState_keepsTheNewViewOfItsView_andRefusesOneForAnother() throws {
    let cluster = Cluster()
    let changes = [0, 1, 3].map { cluster.viewChange(to: 1, by: $0) }
    let newView = cluster.newView(1, viewChanges: changes, headers: [], by: 1)
    let state = PersistentState(view: 1, changingTo: nil, viewChangeAttempts: 1, ownVotes: [], prepared: [],
                                stableCheckpoint: nil, newView: newView)
    #expect(try PersistentState(canonicalBytes: state.canonicalBytes) == state)
    var elsewhere = state
    elsewhere.view = 2
    #expect(throws: CodecError.self, "a new view of another view") { try PersistentState(canonicalBytes: elsewhere.canonicalBytes) }
    // A record of the earlier format (no new view, no view-change view) reads as one without them,
    // only by the decoder for that format.
    let earlier = Array(PersistentState(view: 1, changingTo: 2, viewChangeAttempts: 1, ownVotes: [], prepared: [],
                                        stableCheckpoint: nil).canonicalBytes.dropLast(2))
    var decoder = CanonicalDecoder(earlier)
    let read = try PersistentState(decodingWithoutNewView: &decoder)
    #expect(read.newView == nil && read.viewChangeSentFor == 2)
    #expect(throws: CodecError.self) { try PersistentState(canonicalBytes: earlier) }
    // A view-change view below the target is refused.
    var below = CanonicalEncoder()
    below.write(Optional<NewView>.none)
    below.write(UInt64(1))
    #expect(throws: CodecError.self) { try PersistentState(canonicalBytes: earlier + below.bytes) }
}

@Test func codec_headerFormMessages_refuseOverLimitCountsAndUnsortedEntries() throws {
    let cluster = Cluster()
    func expectRefused(_ tag: UInt64, _ fields: (inout CanonicalEncoder) -> Void, _ comment: Comment) {
        var encoder = CanonicalEncoder()
        encoder.write(tag)
        fields(&encoder)
        #expect(throws: CodecError.self, comment) { try ConsensusMessage.decode(wire: encoder.bytes) }
    }
    let hash = Hash.tagged("test/a", [])
    let signature = cluster.signer(1).sign(hash)
    // New view claiming more entries in O than a window can hold.
    expectRefused(5, { encoder in
        encoder.write(UInt64(1))
        encoder.write(UInt64(0))
        encoder.write(UInt64(ConsensusLimits.newViewBlocksMax + 1))
    }, "O over its limit")
    // New view whose O is not ascending by height.
    let first = cluster.block(height: 1, parent: cluster.genesis, transactions: []).header
    let second = cluster.block(height: 2, parent: first, transactions: []).header
    expectRefused(5, { encoder in
        encoder.write(UInt64(1))
        encoder.write(UInt64(0))
        encoder.write([NewViewProposal(header: second, signature: signature), NewViewProposal(header: first, signature: signature)])
        encoder.write(signature)
    }, "O out of height order")
    // Block request naming more hashes than allowed, or the same hash twice.
    expectRefused(8, { encoder in
        encoder.write(UInt32(1))
        encoder.write(UInt64(ConsensusLimits.blockRequestHashesMax + 1))
    }, "too many hashes")
    expectRefused(8, { encoder in
        encoder.write(UInt32(1))
        encoder.write([hash, hash])
        encoder.write(signature)
    }, "repeated hash")
    // Block response carrying more blocks than allowed.
    expectRefused(9, { encoder in
        encoder.write(UInt64(ConsensusLimits.blockResponseBlocksMax + 1))
    }, "too many blocks")
    // A prepared certificate with trailing bytes.
    let (_, changes) = preparedSetup(cluster)
    if let certificate = changes[0].prepared.first {
        #expect(try PreparedCertificate(canonicalBytes: certificate.canonicalBytes) == certificate)
        #expect(throws: CodecError.self) { try PreparedCertificate(canonicalBytes: certificate.canonicalBytes + [0]) }
    } else {
        Issue.record("setup has a certificate")
    }
}
