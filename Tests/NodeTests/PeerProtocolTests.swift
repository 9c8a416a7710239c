import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import Logging
import Testing
import Consensus
import Ledger
import LedgerCore
import ConsortTesting
@testable import Node
import NodeAPI
@testable import NodeClient

/// Whether `frame` opens as the session's next frame.
private func opens(_ session: inout PeerSession, _ frame: [UInt8]) -> Bool {
    do {
        _ = try session.open(frame)
        return true
    } catch {
        return false
    }
}

@Suite struct HandshakeTests {
    let genesisHash = Hash.sha256(Array("genesis".utf8))

    private func handshake(_ role: PeerRole, _ key: PrivateKey, accepting: [PublicKey]) -> PeerHandshake {
        PeerHandshake(role: role, chainID: "c", genesisHash: genesisHash, ownKey: key, acceptable: Set(accepting))
    }

    /// Runs both halves of a handshake; returns the two sessions once both sides are authenticated.
    private func connect(_ initiator: inout PeerHandshake, _ responder: inout PeerHandshake) throws -> (PeerSession, PeerSession) {
        guard case .sendProof(let initiatorProof, var initiatorSession) = initiator.receive(hello: responder.hello),
              case .sendProof(let responderProof, var responderSession) = responder.receive(hello: initiator.hello) else {
            throw InProcessNodeError("a hello was refused")
        }
        let sealedByInitiator = try initiatorSession.seal(initiatorProof.canonicalBytes)
        let sealedByResponder = try responderSession.seal(responderProof.canonicalBytes)
        guard case .authenticated = responder.receive(proof: try responderSession.open(sealedByInitiator)),
              case .authenticated = initiator.receive(proof: try initiatorSession.open(sealedByResponder)) else {
            throw InProcessNodeError("a proof was refused")
        }
        return (initiatorSession, responderSession)
    }

    @Test func twoValidators_authenticate_andOnlyTheirSealedFramesOpen() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var left = handshake(.initiator, a, accepting: [b.publicKey])
        var right = handshake(.responder, b, accepting: [a.publicKey])
        var (sender, receiver) = try connect(&left, &right)
        let message = PeerMessage.syncRequest(fromHeight: 3, count: 2).canonicalBytes
        let sealed = try sender.seal(message)
        #expect(sealed != message + [UInt8](repeating: 0, count: PeerSession.sealBytes), "frames are not sent in the clear")
        var beforeReading = receiver
        #expect(try receiver.open(sealed) == message)
        #expect(!opens(&receiver, sealed), "a replayed frame does not open")
        var altered = sealed
        altered[0] ^= 1
        #expect(!opens(&beforeReading, altered), "an altered frame does not open")
    }

    @Test func responder_takesLinksOnlyFromValidatorsThatDialIt() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        let stranger = try PrivateKey.generate()
        var right = handshake(.responder, b, accepting: [a.publicKey])
        guard case .fail(let reason) = right.receive(hello: handshake(.initiator, stranger, accepting: [b.publicKey]).hello) else {
            Issue.record("a stranger's hello was taken")
            return
        }
        #expect(reason.contains("may not open this link"))
        var initiator = handshake(.initiator, a, accepting: [b.publicKey])
        guard case .fail = initiator.receive(hello: handshake(.initiator, stranger, accepting: []).hello) else {
            Issue.record("an initiator took a hello from a key it did not dial")
            return
        }
    }

    /// An impostor that sends a validator's key in its hello derives other
    /// session keys than its victim's peer (the transcript differs), so its proof does not even open.
    @Test func impostorClaimingAValidatorKey_cannotCompleteTheHandshake() throws {
        let victim = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        let impostorKey = try PrivateKey.generate()
        var impostor = handshake(.initiator, impostorKey, accepting: [b.publicKey])
        var forgedHello = impostor.hello
        forgedHello.nodeKey = victim.publicKey
        var right = handshake(.responder, b, accepting: [victim.publicKey])
        guard case .sendProof(_, var rightSession) = right.receive(hello: forgedHello),
              case .sendProof(let proof, var impostorSession) = impostor.receive(hello: right.hello) else {
            Issue.record("the hellos were refused")
            return
        }
        let sealed = try impostorSession.seal(proof.canonicalBytes)
        #expect(!opens(&rightSession, sealed))
    }

    /// A proof made on one connection is refused on another: the transcript binds it to its key exchange.
    @Test func proofFromAnotherConnection_isRefused() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var first = handshake(.initiator, a, accepting: [b.publicKey])
        var firstResponder = handshake(.responder, b, accepting: [a.publicKey])
        guard case .sendProof(let oldProof, _) = first.receive(hello: firstResponder.hello) else {
            Issue.record("the first hello was refused")
            return
        }
        _ = firstResponder.receive(hello: first.hello)
        // An attacker that knows its own ephemeral secret gets a second connection whose keys it shares with b.
        var attacker = handshake(.initiator, a, accepting: [b.publicKey])
        var second = handshake(.responder, b, accepting: [a.publicKey])
        guard case .sendProof(_, var secondSession) = second.receive(hello: attacker.hello),
              case .sendProof(_, var attackerSession) = attacker.receive(hello: second.hello) else {
            Issue.record("the second hellos were refused")
            return
        }
        let replayed = try attackerSession.seal(oldProof.canonicalBytes)
        guard case .fail(let reason) = second.receive(proof: try secondSession.open(replayed)) else {
            Issue.record("a proof from another connection was taken")
            return
        }
        #expect(reason.contains("does not verify"))
    }

    @Test func otherChain_otherVersion_andBadEphemeralKeys_areRefused() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var other = PeerHandshake(role: .initiator, chainID: "other", genesisHash: genesisHash, ownKey: a, acceptable: [b.publicKey])
        var right = handshake(.responder, b, accepting: [a.publicKey])
        guard case .fail = right.receive(hello: other.hello) else { Issue.record("another chain's hello was taken"); return }
        var old = handshake(.initiator, a, accepting: [b.publicKey]).hello
        old.protocolVersion = 1
        var fresh = handshake(.responder, b, accepting: [a.publicKey])
        guard case .fail = fresh.receive(hello: old) else { Issue.record("an old protocol's hello was taken"); return }
        _ = other.receive(hello: fresh.hello)
    }
}

@Suite struct PeerFramingTests {
    private func channel(limit: Int = PeerLimits.handshakeFrameBytesMax) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let frameLimit = FrameLimit()
        frameLimit.bytes = limit
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(limit: frameLimit)))
        return channel
    }

    @Test func frames_dripFedByteByByte_decodeToPayloads() throws {
        let channel = try channel()
        let payload = PeerMessage.syncRequest(fromHeight: 42, count: 7).canonicalBytes
        let frame = encodeFrame(payload, allocator: channel.allocator)
        for byte in frame.readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try channel.readInbound(as: [UInt8].self) == payload)
        #expect(try channel.finish().isClean)
    }

    /// Before authentication a frame may not be larger than a handshake message: the
    /// announcement of a large one fails the connection before any of it is buffered.
    @Test func largeFrameBeforeAuthentication_failsOnItsLength() throws {
        let channel = try channel()
        var buffer = channel.allocator.buffer(capacity: 8)
        buffer.writeInteger(UInt32(PeerLimits.handshakeFrameBytesMax + 1))
        #expect(throws: (any Error).self) { try channel.writeInbound(buffer) }
    }

    @Test func garbageHello_failsTheHandshake() throws {
        #expect(throws: CodecError.self) { try PeerHello(canonicalBytes: [0x63, 0x01, 0x02]) }
    }

    @Test func slots_forUnauthenticatedConnections_areCappedPerAddressAndInAll() {
        var slots = UnauthenticatedConnections()
        var admitted = 0
        for _ in 0...PeerLimits.unauthenticatedPerAddressMax where slots.admit("10.0.0.1") { admitted += 1 }
        #expect(admitted == PeerLimits.unauthenticatedPerAddressMax, "one more than the cap is refused")
        slots.release("10.0.0.1")
        let afterRelease = slots.admit("10.0.0.1")
        #expect(afterRelease)
        var index = 0
        while slots.admit("10.1.\(index / 4).\(index % 4)") { index += 1 }
        #expect(slots.total == PeerLimits.unauthenticatedMax)
    }

    @Test func certifiedBlock_withCertificateForAnotherBlock_failsVerification() throws {
        let key = try PrivateKey.generate()
        let header = BlockHeader(height: 1, parentHash: .zero, timestampMs: 1, proposer: key.publicKey, transactionsRoot: .zero,
                                 stateHeight: 0, stateRoot: .zero, validatorSetHash: .zero)
        let certificate = CommitCertificate(height: 1, view: 0, blockHash: Hash.sha256([1]), signatures: [])
        let certified = CertifiedBlock(block: Block(header: header, transactions: []), certificate: certificate)
        let decoded = try CertifiedBlock(canonicalBytes: certified.canonicalBytes)
        let validators = try ValidatorSet([Validator(name: "v", organizationID: "b", nodeKey: key.publicKey, address: "127.0.0.1:1")])
        #expect(throws: CertificateError.wrongBlock(expected: header.hash, got: Hash.sha256([1]))) {
            try decoded.certificate.verify(header: decoded.block.header, validators: validators, chainID: "c")
        }
    }
}
