import Contracts

/// The command or option that fixes a rejection, for the rejections a
/// person at this command line can fix; printed under the ledger's reason.
enum RejectionHints {
    /// One rejection and its fix; the fix quotes the command in backticks.
    struct Hint {
        var contract: String
        var code: String
        var fix: String
    }

    static let all: [Hint] = [
        Hint(contract: StatementsContract.name, code: "unknown_account",
             fix: "the account's bank registers it first: `consort statement register-account` with --account, --enterprise and --currency"),
        Hint(contract: StatementsContract.name, code: "account_not_accepted",
             fix: "the enterprise accepts the registration of the bank that holds the account: `consort statement accept-account` with --account and --bank"),
        Hint(contract: StatementsContract.name, code: "ambiguous_account",
             fix: "name the bank that holds the account meant with --bank, as in `consort books import` with --account and --bank"),
        Hint(contract: StatementsContract.name, code: "duplicate_statement",
             fix: "a correction is a new statement: `consort statement import` with --corrects and the id of the statement it corrects"),
        Hint(contract: StatementsContract.name, code: "entry_conflict",
             fix: "a posted entry is never changed: `consort books correct` with --entry, --correction and --reason reverses it (and --replacement-id with --replacement-amount replaces it)"),
        Hint(contract: StatementsContract.name, code: "item_not_open",
             fix: "undo the match the item is in first: `consort statement unmatch` with --match and --reason (`consort statement matches` lists them)"),
        Hint(contract: StatementsContract.name, code: "not_ambiguous",
             fix: "only ambiguous matches await review: `consort statement matches` with --ambiguous lists them"),
        Hint(contract: StatementsContract.name, code: "dispute_open",
             fix: "the bank or the enterprise resolves the dispute first: `consort statement resolve`"),
        Hint(contract: ReceivablesContract.name, code: "not_due",
             fix: "to settle before the due date, add --early to `consort receivable settle`"),
        Hint(contract: ReceivablesContract.name, code: "no_credit_line",
             fix: "the bank grants the issuer a line first: `consort receivable credit-line`"),
        Hint(contract: ReceivablesContract.name, code: "credit_line_exceeded",
             fix: "the bank raises the line with `consort receivable credit-line`, or issue a smaller voucher"),
        Hint(contract: BlacklistContract.name, code: "customer_not_declared",
             fix: "add --subject-is-customer to `consort blacklist appeal` to declare that the subject is your customer"),
        Hint(contract: ClearingContract.name, code: "no_open_cycle",
             fix: "the clearing house opens one first: `consort clearing cycle open`"),
        Hint(contract: ClearingContract.name, code: "cycle_open",
             fix: "the clearing house closes the cycle first: `consort clearing cycle close`"),
    ]

    /// The fix for `code` from `contract`, if this tool offers one.
    static func fix(contract: String, code: String) -> String? {
        all.first { $0.contract == contract && $0.code == code }?.fix
    }
}
