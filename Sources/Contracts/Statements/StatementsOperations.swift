import Ledger
import LedgerCore

extension StatementsContract {
    /// Statements operations, by the name used in a ``ContractCall``, with who may call them.
    public enum Operation: String, ContractOperation {
        /// Bank: declare that it holds an account for an enterprise organization (``RegisterAccount``).
        case registerAccount
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

        /// Banks register accounts and post statements and intraday reports; enterprises (core or
        /// not) post book entries and confirm or dispute balances; either side
        /// of the account resolves a dispute.
        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .registerAccount, .postStatement, .postIntradayReport: [.bank]
            case .postBookEntries, .confirmBalance, .disputeBalance: [.enterprise, .coreEnterprise]
            case .resolveDispute: [.bank, .enterprise, .coreEnterprise]
            }
        }
    }
}
