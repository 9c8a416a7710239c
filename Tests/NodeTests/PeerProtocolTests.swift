import NIOCore
import NIOEmbedded
import Testing
import Consensus
import Ledger
import LedgerCore
import ConsortTesting
@testable import Node
import NodeAPI
@testable import NodeClient

@Suite struct HandshakeTests {
    let genesisHash = Hash.sha256(Array("genesis".utf8))

    private func machine(_ key: PrivateKey, acceptable: [PublicKey], challenge: UInt8) -> HandshakeStateMachine {
        HandshakeStateMachine(chainID: "c", genesisHash: genesisHash, ownKey: key, challenge: [UInt8](repeating: challenge, count: 32),
                              acceptable: Set(acceptable))
    }

    private func sent(_ actions: [HandshakeStateMachine.Action]) -> PeerMessage? {
        for case .send(let message) in actions { return message }
        return nil
    }

    @Test func twoValidators_authenticateEachOther() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var left = machine(a, acceptable: [b.publicKey], challenge: 1)
        var right = machine(b, acceptable: [a.publicKey], challenge: 2)
        let leftProof = try #require(sent(right.receive(left.hello)))
        let rightProof = try #require(sent(left.receive(right.hello)))
        #expect(left.receive(leftProof) == [.authenticated(b.publicKey)])
        #expect(right.receive(rightProof) == [.authenticated(a.publicKey)])
    }

    @Test func nonValidator_isRefused() throws {
        let a = try PrivateKey.generate()
        let stranger = try PrivateKey.generate()
        var left = machine(a, acceptable: [try PrivateKey.generate().publicKey], challenge: 1)
        let intruder = machine(stranger, acceptable: [a.publicKey], challenge: 2)
        guard case .fail(let reason) = left.receive(intruder.hello).first else { Issue.record("expected failure"); return }
        #expect(reason.contains("not a validator"))
    }

    @Test func proofSignedForAnotherChallenge_isRefused() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var left = machine(a, acceptable: [b.publicKey], challenge: 1)
        _ = left.receive(machine(b, acceptable: [a.publicKey], challenge: 2).hello)
        let replayed = b.sign(HandshakeStateMachine.proofDigest(genesisHash: genesisHash, challenge: [UInt8](repeating: 9, count: 32), signer: b.publicKey))
        guard case .fail = left.receive(.helloProof(replayed)).first else { Issue.record("a replayed proof must fail"); return }
    }

    @Test func impostorClaimingAValidatorKey_cannotProveIt() throws {
        let a = try PrivateKey.generate()
        let victim = try PrivateKey.generate()
        let impostor = try PrivateKey.generate()
        var left = machine(a, acceptable: [victim.publicKey], challenge: 1)
        let claimed = PeerHello(chainID: "c", genesisHash: genesisHash, nodeKey: victim.publicKey, challenge: [UInt8](repeating: 3, count: 32))
        _ = left.receive(.hello(claimed))
        let proof = impostor.sign(HandshakeStateMachine.proofDigest(genesisHash: genesisHash, challenge: [UInt8](repeating: 1, count: 32), signer: victim.publicKey))
        guard case .fail = left.receive(.helloProof(proof)).first else { Issue.record("an impostor must fail"); return }
    }

    @Test func otherChain_andMessagesBeforeHello_areRefused() throws {
        let a = try PrivateKey.generate()
        let b = try PrivateKey.generate()
        var left = machine(a, acceptable: [b.publicKey], challenge: 1)
        let foreign = PeerHello(chainID: "other", genesisHash: genesisHash, nodeKey: b.publicKey, challenge: [UInt8](repeating: 2, count: 32))
        guard case .fail = left.receive(.hello(foreign)).first else { Issue.record("another chain must fail"); return }
        var fresh = machine(a, acceptable: [b.publicKey], challenge: 1)
        guard case .fail = fresh.receive(.consensus([1, 2])).first else { Issue.record("traffic before the handshake must fail"); return }
    }
}

@Suite struct PeerFramingTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(frameBytesMax: 1024)))
        return channel
    }

    @Test func frames_dripFedByteByByte_decodeToMessages() throws {
        let channel = try channel()
        let message = PeerMessage.syncRequest(fromHeight: 42, count: 7)
        let frame = encodeFrame(message, allocator: channel.allocator)
        for byte in frame.readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try channel.readInbound(as: PeerMessage.self) == message)
        #expect(try channel.finish().isClean)
    }

    @Test func oversizedFrame_failsTheConnection() throws {
        let channel = try channel()
        var buffer = channel.allocator.buffer(capacity: 8)
        buffer.writeInteger(UInt32(1_000_000))
        #expect(throws: (any Error).self) { try channel.writeInbound(buffer) }
    }

    @Test func garbageFrame_failsTheConnection() throws {
        let channel = try channel()
        var buffer = channel.allocator.buffer(capacity: 8)
        buffer.writeInteger(UInt32(3))
        buffer.writeBytes([0x63, 0x01, 0x02])
        #expect(throws: (any Error).self) { try channel.writeInbound(buffer) }
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
