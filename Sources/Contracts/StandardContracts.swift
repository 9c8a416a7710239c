import Ledger
import LedgerCore

/// The contracts every Consort node runs, in one registry.
public enum StandardContracts {
    /// The registry of built-in contracts, with governance as the membership directory.
    public static func registry() -> ContractRegistry {
        let governance = GovernanceContract()
        return ContractRegistry(contracts: [governance, BlacklistContract(), ClearingContract(), StatementsContract(), ReceivablesContract()], directory: governance)
    }
}
