import Ledger
import LedgerCore

extension BlacklistContract {
    /// The operations of the blacklist contract, by the name used in a ``ContractCall``.
    public enum Operation: String, ContractOperation {
        /// List a subject. Bank, clearing house or regulator. Arguments: ``AddBlacklistEntry``.
        case add
        /// Change an entry's reason, expiry, evidence or note as a new version. Its uploader only. Arguments: ``AmendBlacklistEntry``.
        case amend
        /// Support another institution's entry. Bank, clearing house or regulator. Arguments: ``BlacklistOpinion``.
        case corroborate
        /// Contest another institution's entry. Bank, clearing house or regulator. Arguments: ``BlacklistOpinion``.
        case dispute
        /// The subject's bank contests an entry on the subject's behalf (异议). Bank only. Arguments: ``FileBlacklistAppeal``.
        case appeal
        /// The uploader answers an open appeal. Its uploader only. Arguments: ``AnswerBlacklistAppeal``.
        case answer
        /// Take an entry off the list. Its uploader, or any regulator. Arguments: ``RevokeBlacklistEntry``.
        case revoke
        /// Check one subject; recorded and metered. Bank, clearing house or regulator. Arguments: ``CheckBlacklistSubject``.
        case check
        /// Check many subjects in one transaction; recorded and metered. Bank, clearing house or regulator. Arguments: ``BatchCheckBlacklist``.
        case batchCheck
        /// Record lapsed appeals and expiries that are due. Bank, clearing house or regulator. Arguments: ``SettleBlacklistEntries``.
        case settle

        /// Only banks appeal; every other operation is open to banks, clearing
        /// houses and regulators, and the contract applies the finer rules
        /// (uploader only, regulator or uploader).
        public var permittedKinds: Set<OrganizationKind> {
            switch self {
            case .appeal: [.bank]
            case .add, .amend, .corroborate, .dispute, .answer, .revoke, .check, .batchCheck, .settle: [.bank, .clearingHouse, .regulator]
            }
        }
    }
}
