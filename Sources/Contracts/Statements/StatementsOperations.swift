import Ledger
import LedgerCore

extension StatementsContract {
    /// Statements operations, by the name used in a ``ContractCall``, with who may call them.
    public enum Operation: String, ContractOperation {
        /// Bank: declare that it holds an account for an enterprise organization (``RegisterAccount``).
        case registerAccount
        /// The enterprise named: accept a bank's registration of its account (``AcceptAccount``).
        case acceptAccount
        /// Bank holding the account: post a statement (``PostStatement``).
        case postStatement
        /// Enterprise owning the account: post a batch of book entries (``PostBookEntries``).
        case postBookEntries
        /// Enterprise owning the account: confirm a statement's closing balance (``ConfirmBalance``).
        case confirmBalance
        /// Enterprise owning the account: dispute a statement's closing balance (``DisputeBalance``).
        case disputeBalance
        /// Bank or enterprise of the account: close an open dispute (``ResolveDispute``).
        case resolveDispute
        /// Bank holding the account: post an intraday account report (``PostIntradayReport``).
        case postIntradayReport
        /// Bank or enterprise of the account: match open items by hand, with a reason (``ManualMatch``).
        case matchItems
        /// Bank or enterprise of the account: dissolve a match, with a reason; its items are open again (``Unmatch``).
        case unmatch
        /// Bank or enterprise of the account: confirm an ambiguous automatic match (``ReviewMatch``).
        case reviewMatch
        /// Enterprise owning the account: correct a book entry by a reversing entry and an optional replacement (``CorrectBookEntry``).
        case correctBookEntry

        /// Banks register accounts and post statements and intraday reports; enterprises (core or
        /// not) post and correct book entries and confirm or dispute balances; either side
        /// of the account resolves a dispute and matches, unmatches or reviews items.
        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .registerAccount, .postStatement, .postIntradayReport: [.bank]
            case .postBookEntries, .confirmBalance, .disputeBalance, .correctBookEntry, .acceptAccount: [.enterprise, .coreEnterprise]
            case .resolveDispute, .matchItems, .unmatch, .reviewMatch: [.bank, .enterprise, .coreEnterprise]
            }
        }
    }
}
