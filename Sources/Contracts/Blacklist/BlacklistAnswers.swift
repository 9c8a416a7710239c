import Ledger
import LedgerCore

// The typed answers of the blacklist's queries that clients read field by
// field. The contract builds its JSON from these and clients decode the JSON
// back into them, so both sides agree on every key.

/// The blacklist's rules fixed at genesis, as the `parameters` query answers them.
public struct BlacklistParametersAnswer: Codable, Sendable, Equatable {
    /// Why an entry may be listed: `add` and `amend` take one of these.
    public var reasonCodes: [String]
    /// Why a check is made: `check` takes one of these.
    public var purposeCodes: [String]
    public var appealAnswerDays: Int64
    public var retentionDays: Int64
    public var baseAllowance: Int64
    public var allowancePerEntry: Int64
    public var allowancePerCorroboration: Int64
    public var batchSubjectsMax: Int64

    public init(reasonCodes: [String], purposeCodes: [String], appealAnswerDays: Int64, retentionDays: Int64, baseAllowance: Int64,
                allowancePerEntry: Int64, allowancePerCorroboration: Int64, batchSubjectsMax: Int64) {
        self.reasonCodes = reasonCodes
        self.purposeCodes = purposeCodes
        self.appealAnswerDays = appealAnswerDays
        self.retentionDays = retentionDays
        self.baseAllowance = baseAllowance
        self.allowancePerEntry = allowancePerEntry
        self.allowancePerCorroboration = allowancePerCorroboration
        self.batchSubjectsMax = batchSubjectsMax
    }
}
