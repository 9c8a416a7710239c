import Testing
@testable import LedgerCore

@Suite struct CanonicalCodecTests {
    private func decoder(_ bytes: [UInt8]) -> CanonicalDecoder { CanonicalDecoder(bytes) }

    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max])
    func varint_roundTripsEveryMagnitude(value: UInt64) throws {
        var encoder = CanonicalEncoder()
        encoder.write(value)
        var reader = decoder(encoder.bytes)
        #expect(try reader.readUInt64("v") == value)
        try reader.finish("v")
    }

    @Test(arguments: [Int64(0), -1, 1, -64, 64, Int64.min, Int64.max])
    func signedInteger_roundTripsThroughZigZag(value: Int64) throws {
        var encoder = CanonicalEncoder()
        encoder.write(value)
        var reader = decoder(encoder.bytes)
        #expect(try reader.readInt64("v") == value)
    }

    @Test func varint_nonMinimalForm_isRejected() {
        var reader = decoder([0x80, 0x00])
        #expect(throws: CodecError.nonMinimalInteger(field: "n")) { try reader.readUInt64("n") }
        var padded = decoder([0x81, 0x80, 0x00])
        #expect(throws: CodecError.nonMinimalInteger(field: "n")) { try padded.readUInt64("n") }
    }

    @Test func varint_beyond64Bits_isRejected() {
        var reader = decoder([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        #expect(throws: CodecError.integerOverflow(field: "n")) { try reader.readUInt64("n") }
        var long = decoder([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x01])
        #expect(throws: CodecError.integerOverflow(field: "n")) { try long.readUInt64("n") }
    }

    @Test func narrowInteger_outOfRange_isRejected() {
        var encoder = CanonicalEncoder()
        encoder.write(UInt64(70_000))
        var reader = decoder(encoder.bytes)
        #expect(throws: CodecError.integerOverflow(field: "small")) { try reader.readUInt16("small") }
    }

    @Test func truncatedInput_namesTheField() {
        var reader = decoder([0x05, 0x61])
        #expect(throws: CodecError.truncated(field: "name")) { try reader.readString("name", limit: 10) }
        var empty = decoder([])
        #expect(throws: CodecError.truncated(field: "flag")) { try empty.readBool("flag") }
    }

    @Test func boolean_otherThanZeroOrOne_isRejected() {
        var reader = decoder([2])
        #expect(throws: CodecError.invalidBoolean(field: "flag", byte: 2)) { try reader.readBool("flag") }
    }

    @Test func optionalMarker_otherThanZeroOrOne_isRejected() {
        var reader = decoder([7])
        #expect(throws: CodecError.invalidOptionalMarker(field: "note", byte: 7)) { try reader.readOptionalString("note", limit: 10) }
    }

    @Test func length_aboveLimit_isRejectedBeforeReading() {
        var encoder = CanonicalEncoder()
        encoder.write(UInt64(1_000_000_000))
        var reader = decoder(encoder.bytes)
        #expect(throws: CodecError.lengthExceedsLimit(field: "blob", length: 1_000_000_000, limit: 16)) {
            try reader.readBytes("blob", limit: 16)
        }
    }

    @Test func string_invalidUTF8_isRejected() {
        var reader = decoder([2, 0xC3, 0x28])
        #expect(throws: CodecError.invalidUTF8(field: "s")) { try reader.readString("s", limit: 10) }
    }

    @Test func enum_unknownTag_isRejected() {
        var encoder = CanonicalEncoder()
        encoder.write(UInt64(9))
        #expect(throws: CodecError.unknownTag(field: "organization kind", tag: 9)) {
            try OrganizationKind(canonicalBytes: encoder.bytes)
        }
    }

    @Test func trailingBytes_areRejected() throws {
        let key = try PrivateKey.generate()
        let bytes = key.publicKey.canonicalBytes + [0]
        #expect(throws: CodecError.trailingBytes(what: "PublicKey", count: 1)) { try PublicKey(canonicalBytes: bytes) }
    }

    @Test func transaction_roundTripsAndReencodesIdentically() throws {
        let key = try PrivateKey.generate()
        let transaction = Transaction.signed(chainID: "c", key: key, nonce: 7, expiresAtMs: 99,
                                             call: ContractCall(contract: "governance", operation: "x", arguments: [1, 2, 3]))
        let bytes = transaction.canonicalBytes
        let decoded = try Transaction(canonicalBytes: bytes)
        #expect(decoded == transaction)
        #expect(decoded.canonicalBytes == bytes)
        #expect(decoded.id == transaction.id)
        #expect(decoded.hasValidSignature)
    }

    @Test func block_withWrongTransactionsRoot_isRejectedOnDecode() throws {
        let key = try PrivateKey.generate()
        let transaction = Transaction.signed(chainID: "c", key: key, nonce: 0, expiresAtMs: 9,
                                             call: ContractCall(contract: "a", operation: "b", arguments: []))
        let header = BlockHeader(height: 1, parentHash: .zero, timestampMs: 1, proposer: key.publicKey, transactionsRoot: .zero,
                                 stateHeight: 0, stateRoot: .zero, validatorSetHash: .zero)
        let block = Block(header: header, transactions: [transaction])
        #expect(throws: CodecError.invalidValue(field: "transactions root", reason: "does not match the block's transactions")) {
            try Block(canonicalBytes: block.canonicalBytes)
        }
        var fixed = block
        fixed.header.transactionsRoot = MerkleTree.root(of: [transaction.id])
        #expect(try Block(canonicalBytes: fixed.canonicalBytes) == fixed)
    }

    @Test func header_stateHeightNotBelowHeight_isRejected() throws {
        let key = try PrivateKey.generate()
        let header = BlockHeader(height: 3, parentHash: .zero, timestampMs: 1, proposer: key.publicKey, transactionsRoot: .zero,
                                 stateHeight: 3, stateRoot: .zero, validatorSetHash: .zero)
        #expect(throws: CodecError.self) { try BlockHeader(canonicalBytes: header.canonicalBytes) }
    }

    @Test func receiptAndCertificate_roundTrip() throws {
        let receipt = Receipt(transactionID: Hash.sha256([1]), status: .rejected(Rejection(code: "x", message: "why")),
                              events: [Event(contract: "c", name: "e", attributes: [EventAttribute("k", "v")])])
        #expect(try Receipt(canonicalBytes: receipt.canonicalBytes) == receipt)
        let key = try PrivateKey.generate()
        let certificate = CommitCertificate(height: 4, view: 2, blockHash: Hash.sha256([2]),
                                            signatures: [ValidatorSignature(validatorIndex: 1, signature: key.sign(Hash.sha256([3])))])
        #expect(try CommitCertificate(canonicalBytes: certificate.canonicalBytes) == certificate)
    }

    @Test func certificate_withUnsortedSigners_isRejectedOnDecode() throws {
        let key = try PrivateKey.generate()
        let signature = key.sign(Hash.sha256([3]))
        var encoder = CanonicalEncoder()
        encoder.write(UInt64(1))
        encoder.write(UInt64(0))
        encoder.write(Hash.zero)
        encoder.write([ValidatorSignature(validatorIndex: 2, signature: signature), ValidatorSignature(validatorIndex: 2, signature: signature)])
        #expect(throws: CodecError.self) { try CommitCertificate(canonicalBytes: encoder.bytes) }
    }

    @Test func jsonValue_canonicalFormSortsKeys_andRejectsUnsortedInput() throws {
        let value = JSONValue.object(["b": .integer(-3), "a": .array([.bool(true), .null, .string("x")])])
        let bytes = value.canonicalBytes
        #expect(try JSONValue(canonicalBytes: bytes) == value)
        var unsorted = CanonicalEncoder()
        unsorted.write(UInt64(5))
        unsorted.write(UInt64(2))
        unsorted.write("b")
        unsorted.write(JSONValue.null)
        unsorted.write("a")
        unsorted.write(JSONValue.null)
        #expect(throws: CodecError.self) { try JSONValue(canonicalBytes: unsorted.bytes) }
    }

    @Test func randomGarbage_neverTrapsTheDecoders() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let length = Int(generator.next() % 200)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? Transaction(canonicalBytes: bytes)
            _ = try? Block(canonicalBytes: bytes)
            _ = try? CommitCertificate(canonicalBytes: bytes)
            _ = try? Receipt(canonicalBytes: bytes)
            _ = try? JSONValue(canonicalBytes: bytes)
        }
    }

    @Test(arguments: [1, 2, 3, 5, 8, 13])
    func merkleProofs_verifyForEveryLeaf_andFailForOthers(count: Int) throws {
        let leaves = (0..<count).map { Hash.sha256([UInt8($0)]) }
        let root = MerkleTree.root(of: leaves)
        for index in 0..<count {
            let proof = try #require(MerkleTree.proof(of: leaves, index: index))
            #expect(MerkleTree.verify(leaf: leaves[index], proof: proof, root: root))
            #expect(!MerkleTree.verify(leaf: Hash.sha256([99]), proof: proof, root: root))
            if let first = proof.first {
                var tampered = proof
                tampered[0] = MerkleStep(sibling: Hash.sha256([7]), siblingIsLeft: first.siblingIsLeft)
                #expect(!MerkleTree.verify(leaf: leaves[index], proof: tampered, root: root))
            }
        }
        #expect(MerkleTree.proof(of: leaves, index: count) == nil)
    }
}
