import Ledger
import LedgerCore

extension ClearingContract {
    /// Clearing operations, by the name used in a ``ContractCall``, with their argument type and who may call them.
    public enum Operation: String, ContractOperation {
        /// ``PostRecord``; banks and clearing houses, for their own side.
        case post
        /// ``UpdateRecord``; the organization that posted the side.
        case update
        /// ``OpenCycle``; clearing houses.
        case openCycle
        /// ``CloseCycle``; the clearing house that opened the cycle.
        case closeCycle
        /// ``SignCycle``; banks that take part in the cycle.
        case signCycle
        /// ``PostFinding``; banks and clearing houses (or the genesis `reconcilers`).
        case postFinding
        /// ``ResolveFinding``; banks and clearing houses (or the genesis `reconcilers`).
        case resolveFinding

        /// `post`, `update`, `postFinding`, `resolveFinding`: banks and clearing houses;
        /// `openCycle`, `closeCycle`: clearing houses; `signCycle`: banks.
        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .post, .update, .postFinding, .resolveFinding: [.bank, .clearingHouse]
            case .openCycle, .closeCycle: [.clearingHouse]
            case .signCycle: [.bank]
            }
        }
    }
}
