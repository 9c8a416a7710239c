import LedgerCore

extension GovernanceContract {
    /// Governance operations, by the name used in a ``ContractCall``, with who may call them.
    public enum Operation: String, ContractOperation {
        /// Admit an organization. Regulator. Arguments: ``Organization``.
        case addOrganization
        /// Suspend or reactivate another organization. Regulator. Arguments: ``SetOrganizationStatus``.
        case setOrganizationStatus
        /// Add a member key to the caller's own organization. Any kind. Arguments: ``MemberKeyChange``.
        case addMemberKey
        /// Remove a member key of the caller's own organization. Any kind. Arguments: ``MemberKeyChange``.
        case removeMemberKey

        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .addOrganization, .setOrganizationStatus: [.regulator]
            case .addMemberKey, .removeMemberKey: Set(OrganizationKind.allCases)
            }
        }
    }
}
