import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct ReceivablesQueryTests {
    /// A voucher passed down three tiers with a financing step.
    func scenario() throws -> (ReceivablesFixture, leaf: ReceivablePieceID) {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 100_000)
        let tier2 = try fixture.transfer(root, amount: 60_000, from: "s1", to: "s2")
        let tier3 = try fixture.transfer(tier2, amount: 30_000, from: "s2", to: "s3")
        let tier4 = try fixture.transfer(tier3, amount: 10_000, from: "s3", to: "s4")
        try succeed(try fixture.submit("s4", .offerFinancing, ReceivableFinanceOffer(piece: tier4, amount: 10_000, bank: "bankA",
                                                                                      discountRateBps: 400, recourse: .withRecourse)))
        try succeed(try fixture.submit("bankA", .acceptFinancing, ReceivableFinanceAccept(piece: tier4)))
        return (fixture, tier4)
    }

    @Test func trace_fromLeaf_reachesIssuanceAndInvoices() throws {
        let (fixture, leaf) = try scenario()
        let trace = try fixture.query(.trace, ["piece": leaf.description])
        #expect(trace["issuance", "invoices"]?.arrayValue?.first?["number"]?.stringValue == "INV-V1")
        #expect(trace["issuance", "contractHash"]?.stringValue == Hash.sha256(Array("contract-V1".utf8)).hex)
        #expect(trace["issuance", "issued", "organization"]?.stringValue == "core")
        let ancestors = trace["ancestors"]?.arrayValue?.compactMap { $0["piece"]?.stringValue }
        #expect(ancestors == ["V1:1-100000", "V1:1-60000", "V1:1-30000"])
        #expect(trace["piece", "holder"]?.stringValue == "bankA")
        #expect(trace["piece", "financing", "paidOut"]?.intValue != nil)
        let firstStep = trace["ancestors"]?.arrayValue?.first?["history"]?.arrayValue?.first
        #expect(firstStep?["signing", "transaction"]?.stringValue?.count == 64)
        #expect(firstStep?["signing", "height"]?.intValue ?? 0 > 0)
        #expect(firstStep?["signing", "signer"]?.stringValue == fixture.chain.member("s1").key.publicKey.hex)
    }

    @Test func trace_fromRoot_reachesEveryDescendant() throws {
        let (fixture, _) = try scenario()
        let trace = try fixture.query(.trace, ["piece": "V1:1-100000"])
        let descendants = Set(trace["descendants"]?.arrayValue?.compactMap { $0["piece"]?.stringValue } ?? [])
        let expected = Set(try fixture.pieces(of: "V1").map(\.id.description)).subtracting(["V1:1-100000"])
        #expect(descendants == expected && descendants.count == 6)
        #expect(trace["ancestors"]?.arrayValue?.isEmpty == true)
    }

    @Test func trace_fromMiddle_excludesSiblingsAndAncestors() throws {
        let (fixture, _) = try scenario()
        let trace = try fixture.query(.trace, ["piece": "V1:1-60000"])
        let descendants = trace["descendants"]?.arrayValue?.compactMap { $0["piece"]?.stringValue }
        #expect(descendants == ["V1:1-10000", "V1:1-30000", "V1:10001-30000", "V1:30001-60000"])
    }

    @Test func trace_withCertificates_includesAVerifiableCertificatePerHeight() throws {
        let (fixture, leaf) = try scenario()
        let trace = try fixture.query(.trace, ["piece": leaf.description, "certificates": "true"])
        let certificates = try #require(trace["certificates"]?.arrayValue)
        #expect(!certificates.isEmpty)
        let steps = trace["piece", "history"]?.arrayValue ?? []
        for step in steps {
            let hash = try #require(step["signing", "transaction"]?.stringValue)
            let height = try #require(trace["transactions", hash, "height"]?.intValue)
            let index = try #require(trace["transactions", hash, "index"]?.intValue)
            let block = try #require(try fixture.chain.ledger.block(at: UInt64(height)))
            #expect(block.transactions[Int(index)].id.hex == hash)
        }
        for entry in certificates {
            let height = UInt64(try #require(entry["height"]?.intValue))
            let certificate = try #require(try fixture.chain.ledger.certificate(at: height))
            let block = try #require(try fixture.chain.ledger.block(at: height))
            #expect(entry["blockHash"]?.stringValue == certificate.blockHash.hex)
            try certificate.verify(header: block.header, validators: fixture.chain.genesis.validators, chainID: fixture.chain.genesis.chainID)
        }
    }

    @Test func tree_listsEveryPieceRecordInUnitOrder() throws {
        let (fixture, _) = try scenario()
        let tree = try fixture.query(.tree, ["voucher": "V1"])
        let pieces = tree["pieces"]?.arrayValue ?? []
        #expect(pieces.count == 7)
        let live = pieces.filter { $0["status"]?.stringValue != "split" }.compactMap { $0["amount"]?.intValue }
        #expect(live.reduce(0, +) == 100_000)
    }

    @Test func tree_ofVoucherWhoseIDPrefixesAnother_excludesTheOther() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1", amount: 1_000)
        let other = try fixture.issueAccepted("V10", amount: 2_000)
        try fixture.transfer(other, amount: 500, from: "s1", to: "s2")
        let pieces = try fixture.query(.tree, ["voucher": "V1"])["pieces"]?.arrayValue?.compactMap { $0["piece"]?.stringValue }
        #expect(pieces == ["V1:1-1000"])
        let trace = try fixture.query(.trace, ["piece": "V1:1-1000"])
        #expect(trace["descendants"]?.arrayValue?.isEmpty == true)
    }

    @Test func holdings_reportTotalsByStatus() throws {
        let (fixture, _) = try scenario()
        let bank = try fixture.query(.holdings, ["organization": "bankA"])
        #expect(bank["totals", "CNY", "financed", "amount"]?.intValue == 10_000)
        let s1 = try fixture.query(.holdings, ["organization": "s1"])
        #expect(s1["totals", "CNY", "active", "amount"]?.intValue == 40_000)
        #expect(s1["pieces"]?.arrayValue?.count == 1)
    }

    @Test func creditLine_query_showsUnusedAmount() throws {
        let (fixture, _) = try scenario()
        let line = try fixture.query(.creditLine, ["issuer": "core", "bank": "bankA"])
        let expected: Int64 = 100_000_000 - 100_000
        #expect(line["unused"]?.intValue == expected)
    }

    @Test func queries_withBadParameters_sayWhatIsWrong() throws {
        let fixture = try ReceivablesFixture()
        #expect(throws: QueryError.self) { try fixture.query(.piece, [:]) }
        do {
            _ = try fixture.query(.piece, ["piece": "V1-1-2"])
            Issue.record("a malformed piece id was accepted")
        } catch let error as QueryError {
            #expect(error.code == .badParameter)
        }
        do {
            _ = try fixture.query(.voucher, ["voucher": "nope"])
            Issue.record("an unknown voucher was found")
        } catch let error as QueryError {
            #expect(error.code == .notFound)
        }
        do {
            _ = try fixture.chain.ledger.query(contract: "receivables", "everything", parameters: [:])
            Issue.record("an unknown query was answered")
        } catch {
            #expect(error.code == .unknownQuery)
        }
        do {
            _ = try fixture.query(.tree, ["voucher": "V1", "limit": "0"])
            Issue.record("limit 0 was accepted")
        } catch let error as QueryError {
            #expect(error.code == .badParameter)
        }
    }
}

@Suite struct ReceivablesParameterTests {
    @Test func parameters_absent_takeDefaults() throws {
        #expect(try ReceivableParameters(json: nil) == .defaults)
        #expect(ReceivableParameters.defaults.dueMonthsMax == 6)
    }

    @Test func parameters_roundTripThroughJSON() throws {
        let custom = ReceivableParameters(dueMonthsMax: 12, minimumSplitAmount: 5, overdueVouchersMax: 2, pieceRecordsPerVoucherMax: 90_000)
        #expect(try ReceivableParameters(json: custom.json) == custom)
    }

    @Test(arguments: ["dueMonthsMax", "minimumSplitAmount", "pieceRecordsPerVoucherMax"])
    func parameters_outOfRange_areRefusedNamingTheField(_ field: String) {
        do {
            _ = try ReceivableParameters(json: .object([field: .integer(0)]))
            Issue.record("\(field) = 0 was accepted")
        } catch {
            #expect(error.message.contains(field))
        }
    }

    @Test func parameters_dueBeyondOneYear_areRefused() {
        #expect(throws: GenesisError.self) { try ReceivableParameters(json: .object(["dueMonthsMax": .integer(13)])) }
    }

    @Test func parameters_unknownField_isRefused() {
        #expect(throws: GenesisError.self) { try ReceivableParameters(json: .object(["dueDaysMax": .integer(10)])) }
    }

    @Test func genesis_withBadParameters_doesNotStart() {
        #expect(throws: (any Error).self) {
            _ = try ReceivablesFixture(parameters: .object(["overdueVouchersMax": .string("none")]), creditLimit: nil)
        }
    }
}

@Suite struct ReceivableDayTests {
    @Test func iso_roundTrips() throws {
        for text in ["1970-01-01", "2024-02-29", "2026-12-31", "2100-03-01"] {
            #expect(ReceivableDay(iso: text)?.iso == text)
        }
        #expect(ReceivableDay(iso: "2026-01-01")?.daysSinceEpoch == 20_454)
    }

    @Test func iso_rejectsImpossibleDates() {
        for text in ["2025-02-29", "2026-13-01", "2026-1-1", "20260101", "2026-04-31", "abcd-ef-gh"] {
            #expect(ReceivableDay(iso: text) == nil, "\(text)")
        }
    }

    @Test func addingMonths_clampsToMonthEnd() throws {
        #expect(ReceivableDay(iso: "2026-08-31")?.addingMonths(6).iso == "2027-02-28")
        #expect(ReceivableDay(iso: "2026-01-15")?.addingMonths(12).iso == "2027-01-15")
        #expect(ReceivableDay(iso: "2027-08-31")?.addingMonths(6).iso == "2028-02-29")
    }

    @Test func pieceID_textRoundTrips() throws {
        let id = try #require(ReceivablePieceID("PO-7.a:15-250000"))
        #expect(id.voucherID == "PO-7.a" && id.first == 15 && id.last == 250_000 && id.amount == 249_986)
        #expect(id.description == "PO-7.a:15-250000")
        for bad in ["PO:0-5", "PO:5-4", "PO:1", "P/O:1-2", ":1-2", "PO:1-2-3"] { #expect(ReceivablePieceID(bad) == nil, "\(bad)") }
    }
}
