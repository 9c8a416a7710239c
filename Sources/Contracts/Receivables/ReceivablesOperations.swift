import Ledger
import LedgerCore

extension ReceivablesContract {
    /// The organization kinds that hold and pass on pieces: suppliers at every tier.
    static let traders: Set<OrganizationKind> = [.enterprise, .coreEnterprise]

    /// Receivables operations, by the name used in a ``ContractCall``, with who may call them and their argument type.
    public enum Operation: String, ContractOperation {
        /// bank — ``ReceivableCreditLine``
        case setCreditLine
        /// core enterprise — ``ReceivableIssue``
        case issue
        /// core enterprise (the issuer, before acceptance) — ``ReceivableVoucherRef``
        case cancel
        /// enterprise or core enterprise (the named supplier) — ``ReceivableVoucherRef``
        case acceptVoucher
        /// enterprise or core enterprise (the named supplier) — ``ReceivableVoucherRef``
        case rejectVoucher
        /// enterprise or core enterprise (the holder) — ``ReceivableTransfer``
        case offerTransfer
        /// enterprise or core enterprise (the named recipient) — ``ReceivablePieceRef``
        case acceptTransfer
        /// enterprise or core enterprise (the named recipient) — ``ReceivablePieceRef``
        case declineTransfer
        /// enterprise or core enterprise (the holder) — ``ReceivablePieceRef``
        case withdrawOffer
        /// enterprise or core enterprise (the holder) — ``ReceivableFinanceOffer``
        case offerFinancing
        /// bank (the named bank) — ``ReceivableFinanceAccept``
        case acceptFinancing
        /// bank (the named bank) — ``ReceivablePieceRef``
        case declineFinancing
        /// core enterprise (the issuer) — ``ReceivableSettle``
        case settle
        /// regulator — ``ReceivablePieceRef`` with a reason
        case freeze
        /// regulator — ``ReceivablePieceRef`` with a reason
        case unfreeze
        /// any organization, for itself — ``ReceivableSettings``
        case configure
        /// any organization, a second member key — ``ReceivableActionRef``
        case approve
        /// any organization, any member key — ``ReceivableActionRef``
        case discard

        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .setCreditLine, .acceptFinancing, .declineFinancing: [.bank]
            case .issue, .cancel, .settle: [.coreEnterprise]
            case .acceptVoucher, .rejectVoucher, .offerTransfer, .acceptTransfer, .declineTransfer, .withdrawOffer, .offerFinancing:
                ReceivablesContract.traders
            case .freeze, .unfreeze: [.regulator]
            case .configure, .approve, .discard: Set(OrganizationKind.allCases)
            }
        }
    }
}
