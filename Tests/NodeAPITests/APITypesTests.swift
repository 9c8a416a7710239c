import Testing
import LedgerCore
import NodeAPI

/// Sample values of every API type, built from real keys and signatures.
struct Samples {
    let key: PrivateKey
    let transaction: Transaction
    let hash = Hash.sha256(Array("sample".utf8))

    init() throws {
        key = try PrivateKey.generate()
        transaction = Transaction.signed(chainID: "consort-test", key: key, nonce: 7, expiresAtMs: 1_700_000_000_000,
                                         call: ContractCall(contract: "governance", operation: "addMemberKey", arguments: [1, 2, 3]))
    }

    var apiTransaction: APITransaction {
        APITransaction(id: transaction.id, chainID: "consort-test", sender: key.publicKey, nonce: 7, expiresAtMs: 1_700_000_000_000,
                       contract: "governance", operation: "addMemberKey", arguments: HexBytes([1, 2, 3]), signature: transaction.signature)
    }

    var successReceipt: APIReceipt {
        APIReceipt(transactionID: transaction.id, status: .success,
                   events: [APIEvent(contract: "governance", name: "member_key_added", attributes: ["organization": "acme", "key": "02ab"])])
    }

    var rejectedReceipt: APIReceipt {
        APIReceipt(transactionID: transaction.id, status: .rejected, events: [],
                   error: APIErrorDetail(code: "not_permitted", message: "acme may not do this"))
    }

    var header: APIBlockHeader {
        APIBlockHeader(height: 5, hash: hash, parentHash: Hash.sha256([1]), timestampMs: 1_700_000_000_123, proposer: key.publicKey,
                       transactionsRoot: Hash.sha256([2]), stateHeight: 4, stateRoot: Hash.sha256([3]), validatorSetHash: Hash.sha256([4]))
    }

    var certificate: APICertificate {
        APICertificate(height: 5, view: 2, blockHash: hash,
                       signatures: [APICertificate.ValidatorSignature(validator: 3, signature: key.sign(hash))])
    }

    var block: BlockAnswer {
        BlockAnswer(header: header, transactions: [apiTransaction], receipts: [successReceipt, rejectedReceipt], certificate: certificate,
                    resultingStateRoot: Hash.sha256([5]), encoded: HexBytes([9, 8, 7]))
    }

    var committed: CommittedTransaction {
        CommittedTransaction(id: transaction.id, height: 5, index: 0, receipt: successReceipt, transaction: apiTransaction,
                             inclusion: InclusionEvidence(header: HexBytes([1]), merkleProof: HexBytes([2, 3]), certificate: HexBytes([4])))
    }

    var status: StatusAnswer {
        StatusAnswer(node: "node0", role: "validator", height: 5, lastBlockHash: hash, stateRoot: Hash.sha256([3]), lastBlockTimeMs: 123,
                     view: 2, primary: nil, mempoolSize: 4, syncing: false,
                     validators: [ValidatorStatus(name: "node0", nodeKey: key.publicKey, address: "127.0.0.1:7000", connected: false, isSelf: true)],
                     fault: nil)
    }
}

/// Encodes `value` the API's way, checks it decodes to the same value and
/// that its top-level keys are exactly `keys`; returns the JSON for more checks.
@discardableResult
private func roundTrip<Value: Codable & Equatable>(_ value: Value, keys: Set<String>,
                                                   sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    let bytes = try APICoding.encode(value)
    #expect(try APICoding.decode(Value.self, from: bytes) == value, sourceLocation: sourceLocation)
    let json = try APICoding.decode(JSONValue.self, from: bytes)
    #expect(keySet(json) == keys, sourceLocation: sourceLocation)
    return json
}

private func keySet(_ json: JSONValue?) -> Set<String> {
    Set(json?.objectValue.map { Array($0.keys) } ?? [])
}

private let transactionKeys: Set = ["id", "chainId", "sender", "nonce", "expiresAtMs", "contract", "operation", "arguments", "signature"]
private let receiptKeys: Set = ["transactionId", "status", "events"]
private let headerKeys: Set = ["height", "hash", "parentHash", "timestampMs", "proposer", "transactionsRoot", "stateHeight", "stateRoot",
                               "validatorSetHash"]

@Suite struct APITypesRoundTripTests {
    let samples: Samples

    init() throws {
        samples = try Samples()
    }

    @Test func submissionRequest_isTheTransactionHex() throws {
        let json = try roundTrip(SubmissionRequest(samples.transaction), keys: ["transaction"])
        #expect(json["transaction"] == .string(Hex.encode(samples.transaction.canonicalBytes)))
    }

    @Test func submissionAnswer_hasIdStatusAndNew() throws {
        let json = try roundTrip(SubmissionAnswer(id: samples.transaction.id, isNew: true), keys: ["id", "status", "new"])
        #expect(json["id"] == .string(samples.transaction.id.hex))
        #expect(json["status"] == .string("pending"))
        #expect(json["new"] == .bool(true))
    }

    @Test func transactionStatus_pending_hasIdAndStatusOnly() throws {
        let json = try roundTrip(TransactionStatusAnswer.pending(id: samples.transaction.id), keys: ["id", "status"])
        #expect(json["status"] == .string("pending"))
    }

    @Test func transactionStatus_committed_hasPlaceReceiptTransactionAndInclusion() throws {
        let json = try roundTrip(TransactionStatusAnswer.committed(samples.committed),
                                 keys: ["id", "status", "height", "index", "receipt", "transaction", "inclusion"])
        #expect(json["status"] == .string("committed"))
        #expect(json["height"] == .integer(5))
        #expect(json["index"] == .integer(0))
        #expect(keySet(json["receipt"]) == receiptKeys)
        #expect(keySet(json["receipt"]?["events"]?.arrayValue?.first) == ["contract", "name", "attributes"])
        #expect(json["receipt"]?["events"]?.arrayValue?.first?["attributes"] == .object(["organization": .string("acme"), "key": .string("02ab")]))
        #expect(keySet(json["transaction"]) == transactionKeys)
        #expect(keySet(json["inclusion"]) == ["header", "merkleProof", "certificate"])
        #expect(json["inclusion"]?["merkleProof"] == .string("0203"))

        var withoutEvidence = samples.committed
        withoutEvidence.inclusion = nil
        try roundTrip(TransactionStatusAnswer.committed(withoutEvidence), keys: ["id", "status", "height", "index", "receipt", "transaction"])
    }

    @Test func transaction_fieldsAreHexAndIntegers() throws {
        let json = try roundTrip(samples.apiTransaction, keys: transactionKeys)
        #expect(json["chainId"] == .string("consort-test"))
        #expect(json["sender"] == .string(samples.key.publicKey.hex))
        #expect(json["nonce"] == .integer(7))
        #expect(json["expiresAtMs"] == .integer(1_700_000_000_000))
        #expect(json["arguments"] == .string("010203"))
        #expect(json["signature"] == .string(samples.transaction.signature.hex))
    }

    @Test func receipt_rejected_carriesTheError() throws {
        try roundTrip(samples.successReceipt, keys: receiptKeys)
        let json = try roundTrip(samples.rejectedReceipt, keys: receiptKeys.union(["error"]))
        #expect(json["status"] == .string("rejected"))
        #expect(keySet(json["error"]) == ["code", "message"])
    }

    @Test func block_certified_hasEveryPart() throws {
        let json = try roundTrip(samples.block, keys: ["header", "transactions", "receipts", "certificate", "resultingStateRoot", "encoded"])
        #expect(keySet(json["header"]) == headerKeys)
        #expect(keySet(json["certificate"]) == ["height", "view", "blockHash", "signatures"])
        #expect(keySet(json["certificate"]?["signatures"]?.arrayValue?.first) == ["validator", "signature"])
        #expect(json["certificate"]?["signatures"]?.arrayValue?.first?["validator"] == .integer(3))
        #expect(json["encoded"] == .string("090807"))
        #expect(json["header"]?["stateHeight"] == .integer(4))
    }

    @Test func block_withoutCertificateOrReceipts_leavesThemOut() throws {
        let genesisLike = BlockAnswer(header: samples.header, transactions: [], receipts: nil, certificate: nil, resultingStateRoot: nil, encoded: nil)
        try roundTrip(genesisLike, keys: ["header", "transactions"])
    }

    @Test func status_writesNullPrimaryAndFault() throws {
        let json = try roundTrip(samples.status, keys: ["node", "role", "height", "lastBlockHash", "stateRoot", "lastBlockTimeMs", "view", "primary",
                                                        "mempoolSize", "syncing", "validators", "fault"])
        #expect(json["primary"] == .null)
        #expect(json["fault"] == .null)
        #expect(keySet(json["validators"]?.arrayValue?.first) == ["name", "nodeKey", "address", "connected", "self"])
        var faulty = samples.status
        faulty.primary = "node1"
        faulty.fault = "state root differs at height 4"
        let named = try roundTrip(faulty, keys: keySet(json))
        #expect(named["primary"] == .string("node1"))
    }

    @Test func genesis_hasChainHashAndValidators() throws {
        let answer = GenesisAnswer(chainID: "consort-test", hash: samples.hash,
                                   validators: [GenesisValidator(name: "node0", organization: "bankA", nodeKey: samples.key.publicKey, address: "h:1")])
        let json = try roundTrip(answer, keys: ["chainId", "hash", "validators"])
        #expect(keySet(json["validators"]?.arrayValue?.first) == ["name", "organization", "nodeKey", "address"])
    }

    @Test func nonce_writesNullOrganization() throws {
        let json = try roundTrip(NonceAnswer(key: samples.key.publicKey, nextNonce: 3, pendingNonce: 5, organization: nil),
                                 keys: ["key", "nextNonce", "pendingNonce", "organization"])
        #expect(json["organization"] == .null)
        try roundTrip(NonceAnswer(key: samples.key.publicKey, nextNonce: 3, pendingNonce: 5, organization: "acme"), keys: keySet(json))
    }

    @Test func query_keepsTheResultAsJSON() throws {
        let result = JSONValue.object(["kind": .string("bank"), "memberKeys": .array([.string("02ab")]), "count": .integer(-2), "open": .bool(true),
                                       "none": .null])
        let json = try roundTrip(QueryAnswer(height: 9, result: result), keys: ["height", "result"])
        #expect(json["result"] == result)
    }

    @Test func proof_writesNullForAnAbsentValue() throws {
        let absent = try roundTrip(ProofAnswer(height: 2, stateRoot: samples.hash, value: nil, proof: HexBytes([1, 2])),
                                   keys: ["height", "stateRoot", "value", "proof"])
        #expect(absent["value"] == .null)
        let present = try roundTrip(ProofAnswer(height: 2, stateRoot: samples.hash, value: HexBytes([0xAB]), proof: HexBytes([1, 2])), keys: keySet(absent))
        #expect(present["value"] == .string("ab"))
    }

    @Test func healthAndErrorBodies() throws {
        let health = try roundTrip(HealthAnswer(height: 12), keys: ["status", "height"])
        #expect(health["status"] == .string("ok"))
        let error = try roundTrip(ErrorAnswer(code: "not_found", message: "no block at height 9"), keys: ["error"])
        #expect(keySet(error["error"]) == ["code", "message"])
    }

    @Test func blockStreamEvent_throughItsServerSentEventText() throws {
        let event = BlockStreamEvent(block: samples.block)
        let text = try event.serverSentEvent().text
        #expect(text.hasPrefix("id: 5\nevent: block\ndata: {"))
        #expect(text.hasSuffix("}\n\n"))
        var parser = ServerSentEventParser()
        var frames: [ServerSentEvent] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if let frame = try parser.feed(String(line)) { frames.append(frame) }
        }
        #expect(frames.count == 1)
        #expect(try BlockStreamEvent(try #require(frames.first)) == event)
        let wrongID = ServerSentEvent(id: "6", event: "block", data: try APICoding.text(samples.block))
        #expect(throws: DecodingError.self) { try BlockStreamEvent(wrongID) }
    }
}

@Suite struct APIDecodingStrictnessTests {
    let samples: Samples

    init() throws {
        samples = try Samples()
    }

    /// The JSON of `value` with one member replaced (or removed, with nil).
    private func altered(_ value: some Encodable, _ key: String, _ replacement: JSONValue?) throws -> [UInt8] {
        guard case .object(var members) = try APICoding.decode(JSONValue.self, from: try APICoding.encode(value)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not an object"))
        }
        members[key] = replacement
        return try APICoding.encode(JSONValue.object(members))
    }

    private func failure<Value: Decodable>(_ type: Value.Type, _ bytes: [UInt8]) -> String? {
        do {
            _ = try APICoding.decode(type, from: bytes)
            return nil
        } catch {
            return APICoding.describe(error)
        }
    }

    @Test func missingNullableField_isAnError() throws {
        let answer = NonceAnswer(key: samples.key.publicKey, nextNonce: 1, pendingNonce: 1, organization: nil)
        #expect(failure(NonceAnswer.self, try altered(answer, "organization", nil)) == "field 'organization' is missing")
    }

    @Test func wrongTypesAndBadHex_nameTheField() throws {
        #expect(failure(StatusAnswer.self, try altered(samples.status, "height", .string("high"))) == "field 'height' is not an integer")
        #expect(failure(StatusAnswer.self, try altered(samples.status, "lastBlockHash", .string("abc")))?
            .hasPrefix("field 'lastBlockHash': expected a SHA-256 hash") == true)
        let badKey = JSONValue.array([.object(["name": .string("node0"), "nodeKey": .string("zz"), "address": .string("a"),
                                               "connected": .bool(true), "self": .bool(false)])])
        #expect(failure(StatusAnswer.self, try altered(samples.status, "validators", badKey))?
            .hasPrefix("field 'validators[0].nodeKey': expected a compressed secp256k1 public key") == true)
        #expect(failure(BlockAnswer.self, try altered(samples.block, "encoded", .string("xyz")))?.hasPrefix("field 'encoded': expected hex digits") == true)
        #expect(failure(SubmissionAnswer.self, try altered(SubmissionAnswer(id: samples.hash, isNew: true), "status", .string("lost")))?
            .hasPrefix("field 'status'") == true)
        #expect(failure(HealthAnswer.self, Array("not json".utf8))?.hasPrefix("the body is not JSON") == true)
    }

    @Test func unknownTransactionStatus_isRefused() throws {
        let json = try altered(TransactionStatusAnswer.pending(id: samples.hash), "status", .string("lost"))
        #expect(failure(TransactionStatusAnswer.self, json)?.hasPrefix("field 'status'") == true)
    }
}

@Suite struct ServerSentEventParserTests {
    @Test func joinsDataLinesAndSkipsComments() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(": keep-alive") == nil)
        #expect(try parser.feed("") == nil)
        #expect(try parser.feed("id: 7") == nil)
        #expect(try parser.feed("event: block") == nil)
        #expect(try parser.feed("data: {\"a\":") == nil)
        #expect(try parser.feed("data: 1}") == nil)
        #expect(try parser.feed("") == ServerSentEvent(id: "7", event: "block", data: "{\"a\":\n1}"))
        #expect(try parser.feed("event: other") == nil)
        #expect(try parser.feed("data: x") == nil)
        #expect(try parser.feed("") == ServerSentEvent(id: "", event: "other", data: "x"))
    }

    @Test func dataAboveTheLimit_isAnError() throws {
        var parser = ServerSentEventParser(dataBytesMax: 8)
        #expect(try parser.feed("data: 1234") == nil)
        #expect(throws: ServerSentEventError.self) { try parser.feed("data: 5678") }
    }

    @Test func writtenEvent_readsBack() throws {
        let event = ServerSentEvent(id: "3", event: "block", data: "one\ntwo")
        var parser = ServerSentEventParser()
        var read: ServerSentEvent?
        for line in event.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            read = try parser.feed(String(line)) ?? read
        }
        #expect(read == event)
    }
}
