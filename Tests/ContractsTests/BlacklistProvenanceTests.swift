import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct BlacklistProvenanceTests {
    typealias F = BlacklistFixture

    func hash(_ value: JSONValue?) throws -> Hash {
        try Hash(hex: try #require(value?.stringValue))
    }

    func integer(_ value: JSONValue?) throws -> UInt64 {
        UInt64(try #require(value?.intValue))
    }

    /// Rebuilds a block header and its certificate from the provenance answer
    /// alone and checks them against the genesis validators, as an auditor would offline.
    func verifyOffline(_ block: JSONValue, fixture: F) throws -> BlockHeader {
        let header = BlockHeader(
            height: try integer(block["height"]), parentHash: try hash(block["parentHash"]), timestampMs: try integer(block["timestampMs"]),
            proposer: try PublicKey(hex: try #require(block["proposer"]?.stringValue)), transactionsRoot: try hash(block["transactionsRoot"]),
            stateHeight: try integer(block["stateHeight"]), stateRoot: try hash(block["stateRoot"]), validatorSetHash: try hash(block["validatorSetHash"]))
        #expect(header.hash == (try hash(block["blockHash"])))
        let certificateJSON = try #require(block["certificate"])
        let signatures = try #require(certificateJSON["signatures"]?.arrayValue).map { item in
            ValidatorSignature(validatorIndex: UInt32(try integer(item["validatorIndex"])),
                               signature: try Signature(hex: try #require(item["signature"]?.stringValue)))
        }
        let certificate = CommitCertificate(height: try integer(certificateJSON["height"]), view: try integer(certificateJSON["view"]),
                                            blockHash: try hash(certificateJSON["blockHash"]), signatures: signatures)
        try certificate.verify(header: header, validators: fixture.chain.genesis.validators, chainID: fixture.chain.genesis.chainID)
        return header
    }

    @Test func provenance_everyStepCarriesSignerTransactionAndAVerifiableBlock() throws {
        let fixture = try F()
        let subject = try F.company(11)
        let id = try fixture.add("bankA", subject)
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: id, reason: "seen it")))
        F.expectSuccess(try fixture.submit("bankC", .dispute, BlacklistOpinion(entryID: id, reason: "repaid")))
        F.expectSuccess(try fixture.check("clear", subject))
        F.expectSuccess(try fixture.submit("bankC", .appeal, FileBlacklistAppeal(
            entryID: id, reason: "customer repaid", declaresSubjectIsCustomer: true, relationshipEvidenceHash: F.evidence("account"))))
        F.expectSuccess(try fixture.submit("bankA", .answer, AnswerBlacklistAppeal(entryID: id, decision: .maintain, reason: "default stands")))
        F.expectSuccess(try fixture.submit("bankA", .amend, AmendBlacklistEntry(entryID: id, reasonCode: "loan_default")))
        F.expectSuccess(try fixture.submit("reg", .revoke, RevokeBlacklistEntry(entryID: id, reason: "regulator review")))

        let provenance = try fixture.query(.provenance, ["id": String(id)])
        let history = try #require(provenance["history"]?.arrayValue)
        #expect(history.map { $0["action"]?.stringValue } == ["listed", "corroborated", "disputed", "checked", "appealed", "answered", "amended", "revoked"])
        #expect(history.map { $0["organization"]?.stringValue } == ["bankA", "bankB", "bankC", "clear", "bankC", "bankA", "bankA", "reg"])

        var headers: [UInt64: BlockHeader] = [:]
        for block in try #require(provenance["blocks"]?.arrayValue) {
            let header = try verifyOffline(block, fixture: fixture)
            headers[header.height] = header
        }
        for step in history {
            let height = try integer(step["blockHeight"])
            let header = try #require(headers[height], "no block given for height \(height)")
            #expect(try integer(step["blockTimeMs"]) == header.timestampMs)
            // The block body comes from the node; the transaction must sit at the stated index, signed by the stated key.
            let block = try #require(try fixture.chain.ledger.block(at: height))
            #expect(block.hash == header.hash)
            #expect(MerkleTree.root(of: block.transactions.map(\.id)) == header.transactionsRoot)
            let transaction = block.transactions[Int(try integer(step["transactionIndex"]))]
            #expect(transaction.id == (try hash(step["transactionID"])))
            #expect(transaction.hasValidSignature)
            let organization = try #require(step["organization"]?.stringValue)
            #expect(transaction.body.sender.hex == step["signer"]?.stringValue)
            #expect(fixture.chain.member(organization).organization.memberKeys.contains(transaction.body.sender))
        }
    }

    @Test func scenario_addCheckDisputeRevoke_leavesTheWholeStoryInProvenance() throws {
        let fixture = try F()
        let subject = try F.person("440301199001011234")
        let id = try fixture.add("bankA", subject, reason: "telecom_fraud")
        let check = try fixture.check("bankB", subject, purpose: "account_opening")
        #expect(F.matches(check)[subject.text] != nil)
        let lookups = try #require(try fixture.query(.subject, ["subject": subject.text])["lookups"]?.arrayValue)
        #expect(lookups.map { $0["organization"]?.stringValue } == ["bankB"])
        F.expectSuccess(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "customer verified in branch")))
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: id, reason: "dispute accepted")))
        let provenance = try fixture.query(.provenance, ["id": String(id)])
        #expect(provenance["entry"]?["status"]?.stringValue == "revoked")
        let history = try #require(provenance["history"]?.arrayValue)
        #expect(history.map { $0["action"]?.stringValue } == ["listed", "checked", "disputed", "revoked"])
        #expect(try fixture.report("bankB")["disputesWon"]?.intValue == 1)
    }

    @Test func revoke_byRegulatorDuringAppeal_closesTheAppeal() throws {
        let fixture = try F()
        let id = try fixture.add("bankA", try F.company(8))
        F.expectSuccess(try fixture.submit("bankB", .appeal, FileBlacklistAppeal(
            entryID: id, reason: "customer repaid", declaresSubjectIsCustomer: true, relationshipEvidenceHash: F.evidence("account"))))
        F.expectSuccess(try fixture.submit("reg", .revoke, RevokeBlacklistEntry(entryID: id, reason: "appeal upheld by regulator")))
        let history = try #require(try fixture.query(.provenance, ["id": String(id)])["history"]?.arrayValue)
        #expect(history.last?["details"]?["closedAppealOf"]?.stringValue == "bankB")
        #expect(history.last?["details"]?["byRegulator"]?.stringValue == "true")
        #expect(try fixture.status(id) == "revoked")
    }

    @Test func report_countsContributionsAndDisputeOutcomes() throws {
        let fixture = try F()
        let revoked = try fixture.add("bankA", try F.company(1))
        let expiring = try fixture.add("bankA", try F.company(2), expiresAtMs: fixture.chain.nextBlockTimeMs + F.dayMs)
        let standing = try fixture.add("bankA", try F.company(3))
        let corroborated = try fixture.add("bankC", try F.company(4))
        for id in [revoked, expiring, standing] {
            F.expectSuccess(try fixture.submit("bankB", .dispute, BlacklistOpinion(entryID: id, reason: "we disagree")))
        }
        F.expectSuccess(try fixture.submit("bankB", .corroborate, BlacklistOpinion(entryID: corroborated, reason: "agreed")))
        F.expectSuccess(try fixture.submit("bankA", .revoke, RevokeBlacklistEntry(entryID: revoked, reason: "disputed successfully")))
        F.expectSuccess(try fixture.check("bankB", try F.company(5)))
        fixture.chain.advanceClock(byMs: 2 * F.dayMs)
        try fixture.tick()

        let report = try fixture.report("bankB")
        #expect(report["disputesRaised"]?.intValue == 3)
        #expect(report["disputesWon"]?.intValue == 1)
        #expect(report["disputesLost"]?.intValue == 1)
        #expect(report["disputesPending"]?.intValue == 1)
        #expect(report["corroborations"]?.intValue == 1)
        #expect(report["subjectsChecked"]?.intValue == 1)
        #expect(report["allowance"]?.intValue == 105)

        let uploader = try fixture.report("bankA")
        #expect(uploader["entriesAdded"]?.intValue == 3)
        #expect(uploader["entriesLive"]?.intValue == 1)
        #expect(uploader["entriesEnded"]?.intValue == 2)
        #expect(uploader["revocations"]?.intValue == 1)
        #expect(uploader["allowance"]?.intValue == 160)
    }

    @Test func uploads_listsAnInstitutionsEntriesInOrder() throws {
        let fixture = try F()
        let first = try fixture.add("bankA", try F.company(1))
        _ = try fixture.add("bankB", try F.company(2))
        let second = try fixture.add("bankA", try F.company(3))
        let answer = try fixture.query(.uploads, ["organization": "bankA"])
        #expect(answer["total"]?.intValue == 2)
        #expect(answer["entries"]?.arrayValue?.map { $0["id"]?.intValue } == [Int64(first), Int64(second)])
    }

    @Test func parameters_query_returnsGenesisValues() throws {
        let fixture = try F(parameters: .object(["appealAnswerDays": .integer(7)]))
        let parameters = try fixture.query(.parameters)
        #expect(parameters["appealAnswerDays"]?.intValue == 7)
        #expect(parameters["reasonCodes"]?.arrayValue?.contains(.string("fraud")) == true)
    }

    @Test func queries_badInput_giveTypedErrors() throws {
        let fixture = try F()
        func code(_ body: () throws -> JSONValue) -> QueryError.Code? {
            do {
                _ = try body()
                return nil
            } catch let error as QueryError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(code { try fixture.query(.entry, ["id": "7"]) } == .notFound)
        #expect(code { try fixture.query(.entry, ["id": "seven"]) } == .badParameter)
        #expect(code { try fixture.query(.entry) } == .badParameter)
        #expect(code { try fixture.query(.subject, ["subject": "person:110105194912310021"]) } == .badParameter)
        #expect(code { try fixture.query(.report, ["organization": "nobody"]) } == .notFound)
        #expect(code { try fixture.query(.provenance, ["id": "1", "limit": "0"]) } == .badParameter)
        #expect(code { try fixture.chain.ledger.query(contract: "blacklist", "everything", parameters: [:]) } == .unknownQuery)
    }

    @Test func provenance_paging_returnsTheRequestedSteps() throws {
        let fixture = try F()
        let subject = try F.company(1)
        let id = try fixture.add("bankA", subject)
        for _ in 0..<4 { F.expectSuccess(try fixture.check("bankB", subject)) }
        let page = try fixture.query(.provenance, ["id": String(id), "offset": "1", "limit": "2"])
        #expect(page["historyTotal"]?.intValue == 5)
        #expect(page["history"]?.arrayValue?.map { $0["sequence"]?.intValue } == [1, 2])
    }
}
