import Testing
@testable import Contracts
import Ledger
import LedgerCore

@Suite struct ReceivablesCreditLineTests {
    @Test func setCreditLine_recordsLimitForIssuer() throws {
        let fixture = try ReceivablesFixture(creditLimit: 5_000)
        let line = try fixture.creditLine()
        #expect(line.limit == 5_000 && line.used == 0 && line.currency == "CNY" && line.bank == "bankA")
    }

    @Test func setCreditLine_forNonCoreEnterprise_isRejected() throws {
        let fixture = try ReceivablesFixture(creditLimit: nil)
        expectRejected(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "s1", currency: "CNY", limit: 1)), "not_core_enterprise")
    }

    @Test func setCreditLine_forUnknownIssuer_isRejected() throws {
        let fixture = try ReceivablesFixture(creditLimit: nil)
        expectRejected(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "ghost", currency: "CNY", limit: 1)), "unknown_organization")
    }

    @Test func setCreditLine_withBadCurrency_isRejected() throws {
        let fixture = try ReceivablesFixture(creditLimit: nil)
        expectRejected(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "cny", limit: 1)), "bad_currency")
    }

    @Test func setCreditLine_belowUsedAmount_isRejected() throws {
        let fixture = try ReceivablesFixture(creditLimit: 2_000_000)
        try fixture.issueAccepted("V1", amount: 1_500_000)
        expectRejected(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "CNY", limit: 1_000_000)),
                       "limit_below_outstanding")
        try succeed(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "CNY", limit: 1_500_000)))
    }

    @Test func setCreditLine_changingCurrencyWhileUsed_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("bankA", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "USD", limit: 100_000_000)),
                       "currency_change")
    }

    @Test func setCreditLine_byEnterprise_isNotPermitted() throws {
        let fixture = try ReceivablesFixture(creditLimit: nil)
        expectRejected(try fixture.submit("s1", .setCreditLine, ReceivableCreditLine(issuer: "core", currency: "CNY", limit: 1)), "not_permitted")
    }
}

/// One way to spoil an otherwise valid issue, and the code it must be refused with.
enum IssueFault: String, CaseIterable, Sendable {
    case badVoucherID, badAmountZero, badAmountTooLarge, badCurrency, unknownSupplier, supplierIsBank, supplierIsIssuer
    case issueDateInFuture, dueNotAfterIssue, dueTooFar, dueInPast, noInvoices, invoiceZeroAmount, duplicateInvoiceNumber
    case invoiceAfterIssue, amountExceedsInvoices, noCreditLine, currencyMismatch, creditLineExceeded

    var code: String {
        switch self {
        case .badVoucherID: "bad_voucher_id"
        case .badAmountZero, .badAmountTooLarge: "bad_amount"
        case .badCurrency: "bad_currency"
        case .unknownSupplier: "unknown_organization"
        case .supplierIsBank, .supplierIsIssuer: "bad_supplier"
        case .issueDateInFuture: "issue_date_in_future"
        case .dueNotAfterIssue: "due_not_after_issue"
        case .dueTooFar: "due_too_far"
        case .dueInPast: "due_in_past"
        case .noInvoices: "no_invoices"
        case .invoiceZeroAmount, .duplicateInvoiceNumber, .invoiceAfterIssue: "bad_invoice"
        case .amountExceedsInvoices: "amount_exceeds_invoices"
        case .noCreditLine: "no_credit_line"
        case .currencyMismatch: "currency_mismatch"
        case .creditLineExceeded: "credit_line_exceeded"
        }
    }

    func apply(to issue: inout ReceivableIssue) {
        switch self {
        case .badVoucherID: issue.voucherID = "bad/id"
        case .badAmountZero: issue.amount = 0
        case .badAmountTooLarge: issue.amount = ReceivablesLimits.amountMax + 1
        case .badCurrency: issue.currency = "cny"
        case .unknownSupplier: issue.supplier = "ghost"
        case .supplierIsBank: issue.supplier = "bankB"
        case .supplierIsIssuer: issue.supplier = "core"
        case .issueDateInFuture: issue.issueDate = ReceivableDay(daysSinceEpoch: issue.issueDate.daysSinceEpoch + 1)
        case .dueNotAfterIssue: issue.dueDate = issue.issueDate
        case .dueTooFar: issue.dueDate = ReceivableDay(daysSinceEpoch: issue.issueDate.addingMonths(6).daysSinceEpoch + 1)
        case .dueInPast:
            issue.issueDate = ReceivableDay(daysSinceEpoch: issue.issueDate.daysSinceEpoch - 40)
            issue.dueDate = ReceivableDay(daysSinceEpoch: issue.issueDate.daysSinceEpoch + 30)
            issue.invoices[0].date = issue.issueDate
        case .noInvoices: issue.invoices = []
        case .invoiceZeroAmount: issue.invoices[0].amount = 0
        case .duplicateInvoiceNumber:
            issue.invoices.append(ReceivableInvoice(number: issue.invoices[0].number, amount: 5, date: issue.issueDate, documentHash: Hash.sha256([9])))
        case .invoiceAfterIssue: issue.invoices[0].date = ReceivableDay(daysSinceEpoch: issue.issueDate.daysSinceEpoch + 1)
        case .amountExceedsInvoices: issue.invoices[0].amount = issue.amount - 1
        case .noCreditLine: issue.creditBank = "bankB"
        case .currencyMismatch: issue.currency = "USD"
        case .creditLineExceeded:
            issue.amount = 100_000_001
            issue.invoices[0].amount = issue.amount
        }
    }
}

@Suite struct ReceivablesIssueTests {
    @Test func issue_withinCreditLine_createsPendingVoucherAndUsesLine() throws {
        let fixture = try ReceivablesFixture()
        let receipt = try fixture.submit("core", .issue, fixture.issueArguments("V1", amount: 250_000))
        try succeed(receipt)
        #expect(receipt.events.first?.name == "voucher_issued")
        let voucher = try fixture.voucher("V1")
        #expect(voucher.status == .pendingAcceptance && voucher.supplier == "s1" && voucher.pieceRecords == 0)
        #expect(try fixture.creditLine().used == 250_000)
        let holdings = try fixture.query(.holdings, ["organization": "s1"])
        #expect(holdings["vouchersAwaitingAcceptance"]?.arrayValue?.count == 1)
    }

    @Test(arguments: IssueFault.allCases)
    func issue_withFault_isRejectedWithCode(_ fault: IssueFault) throws {
        let fixture = try ReceivablesFixture()
        fixture.advance(to: ReceivableDay(daysSinceEpoch: fixture.today.daysSinceEpoch + 60))
        var arguments = fixture.issueArguments("V1")
        fault.apply(to: &arguments)
        expectRejected(try fixture.submit("core", .issue, arguments), fault.code)
        #expect(try fixture.creditLine().used == 0)
    }

    @Test func issue_withExistingVoucherID_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        var again = fixture.issueArguments("V1")
        again.invoices[0].documentHash = Hash.sha256([1, 2, 3])
        expectRejected(try fixture.submit("core", .issue, again), "voucher_exists")
    }

    @Test func issue_reusingAnInvoice_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        var second = fixture.issueArguments("V2")
        second.invoices = fixture.issueArguments("V1").invoices
        expectRejected(try fixture.submit("core", .issue, second), "invoice_already_used")
    }

    @Test func issue_dueExactlyAtMonthsMax_isAccepted() throws {
        let fixture = try ReceivablesFixture(parameters: .object(["dueMonthsMax": .integer(12)]))
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1", months: 12)))
    }

    @Test func issue_byEnterprise_isNotPermitted() throws {
        let fixture = try ReceivablesFixture()
        expectRejected(try fixture.submit("s1", .issue, fixture.issueArguments("V1")), "not_permitted")
    }

    @Test func issue_secondVoucherBeyondUnusedLine_isRejected() throws {
        let fixture = try ReceivablesFixture(creditLimit: 1_500_000)
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1", amount: 1_000_000)))
        expectRejected(try fixture.submit("core", .issue, fixture.issueArguments("V2", amount: 600_000)), "credit_line_exceeded")
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V3", amount: 500_000)))
    }

    @Test func issue_withMalformedArguments_isBadArguments() throws {
        let fixture = try ReceivablesFixture()
        let receipt = try fixture.chain.submit("core", ReceivablesContract.call(.issue, encodedArguments: [1, 2, 3]))
        expectRejected(receipt, "bad_arguments")
    }

    @Test func unknownOperation_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let receipt = try fixture.chain.submit("core", ContractCall(contract: ReceivablesContract.name, operation: "mint", arguments: []))
        expectRejected(receipt, "unknown_operation")
    }
}

@Suite struct ReceivablesAcceptanceTests {
    @Test func acceptVoucher_createsRootPieceHeldBySupplier() throws {
        let fixture = try ReceivablesFixture()
        let root = try fixture.issueAccepted("V1", amount: 800_000)
        let piece = try fixture.piece(root)
        #expect(piece.holder == "s1" && piece.status == .active && piece.parent == nil && piece.amount == 800_000)
        #expect(piece.history.map(\.action) == [.issued])
        #expect(try fixture.voucher("V1").status == .active)
        let disclosure = try fixture.query(.disclosure, ["issuer": "core"])
        #expect(disclosure["currencies", "CNY", "outstandingAmount"]?.intValue == 800_000)
        #expect(disclosure["currencies", "CNY", "issuedCount"]?.intValue == 1)
    }

    @Test func acceptVoucher_byOtherOrganization_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        expectRejected(try fixture.submit("s2", .acceptVoucher, ReceivableVoucherRef(voucherID: "V1")), "not_supplier")
    }

    @Test func acceptVoucher_twice_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("s1", .acceptVoucher, ReceivableVoucherRef(voucherID: "V1")), "voucher_not_pending")
    }

    @Test func acceptVoucher_unknown_isRejected() throws {
        let fixture = try ReceivablesFixture()
        expectRejected(try fixture.submit("s1", .acceptVoucher, ReceivableVoucherRef(voucherID: "nope")), "unknown_voucher")
    }

    @Test func acceptVoucher_afterDueDate_isRejected() throws {
        let fixture = try ReceivablesFixture()
        let arguments = fixture.issueArguments("V1", months: 1)
        try succeed(try fixture.submit("core", .issue, arguments))
        fixture.advance(to: arguments.dueDate)
        expectRejected(try fixture.submit("s1", .acceptVoucher, ReceivableVoucherRef(voucherID: "V1")), "voucher_due")
    }

    @Test func rejectVoucher_voidsItAndReleasesLineAndInvoices() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        try succeed(try fixture.submit("s1", .rejectVoucher, ReceivableVoucherRef(voucherID: "V1", reason: "wrong goods")))
        let voucher = try fixture.voucher("V1")
        #expect(voucher.status == .rejected && voucher.decisionReason == "wrong goods")
        #expect(try fixture.creditLine().used == 0)
        var again = fixture.issueArguments("V2")
        again.invoices = fixture.issueArguments("V1").invoices
        try succeed(try fixture.submit("core", .issue, again))
    }

    @Test func rejectVoucher_byOtherOrganization_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        expectRejected(try fixture.submit("s2", .rejectVoucher, ReceivableVoucherRef(voucherID: "V1")), "not_supplier")
    }

    @Test func cancel_beforeAcceptance_releasesLine() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        try succeed(try fixture.submit("core", .cancel, ReceivableVoucherRef(voucherID: "V1")))
        #expect(try fixture.voucher("V1").status == .cancelled)
        #expect(try fixture.creditLine().used == 0)
    }

    @Test func cancel_afterAcceptance_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try fixture.issueAccepted("V1")
        expectRejected(try fixture.submit("core", .cancel, ReceivableVoucherRef(voucherID: "V1")), "voucher_not_pending")
    }

    @Test func cancel_byOtherCoreEnterprise_isRejected() throws {
        let fixture = try ReceivablesFixture()
        try succeed(try fixture.submit("core", .issue, fixture.issueArguments("V1")))
        expectRejected(try fixture.submit("core2", .cancel, ReceivableVoucherRef(voucherID: "V1")), "not_issuer")
    }
}
