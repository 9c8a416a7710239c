import Ledger
import LedgerCore

/// The shared blacklist (docs/contracts.md, Blacklist): institutions list companies (by
/// unified social credit code) and persons (by a keyed hash computed on the
/// client), others corroborate or dispute, the subject's bank appeals, and
/// every step — including every check — is kept on the ledger with its
/// signer, transaction and block.
///
/// Rules, in brief:
/// - banks, clearing houses and regulators list, corroborate, dispute,
///   revoke, check and settle; only banks appeal;
/// - an uploader may hold one live entry per subject; it alone amends its
///   entry or answers an appeal on it; it or any regulator may revoke it;
/// - an appeal freezes the entry (it still matches, marked under appeal)
///   until the uploader answers; unanswered past the genesis deadline the
///   entry is removed. Deadlines and expiry are evaluated against block time
///   whenever an entry is read, and recorded when it is next touched by a
///   successful transaction (a check, a new listing of the subject, `settle`);
/// - a check is a transaction, metered: an institution may check
///   `baseAllowance + allowancePerEntry × entries listed +
///   allowancePerCorroboration × corroborations` subjects in all.
///
/// Operations and their permissions are listed in ``Operation``, read-only
/// queries in ``Query``.
public struct BlacklistContract: BuiltInContract {
    /// The contract's name in calls and its state namespace.
    public static let name = "blacklist"

    /// The contract, stateless: everything it needs is in the ledger state.
    public init() {}

    public func genesisState(_ genesis: Genesis) throws(GenesisError) -> [(key: [UInt8], value: [UInt8])] {
        let parameters = try BlacklistParameters.fromGenesis(genesis.contracts[Self.name])
        return [(BlacklistKeys.parameters, parameters.canonicalBytes)]
    }

    /// Refuses, before it is pooled, a call whose arguments do not decode or
    /// carry what looks like personal data (``BlacklistAdmission``).
    public func checkArguments(_ call: ContractCall) throws(Rejection) {
        guard let operation = Operation(rawValue: call.operation) else {
            throw LedgerRejection.unknownOperation(contract: name, operation: call.operation)
        }
        let rejection: Rejection?
        do {
            rejection = try BlacklistAdmission.rejection(operation, call.arguments)
        } catch {
            throw LedgerRejection.badArguments(error)
        }
        if let rejection { throw rejection }
    }

    public func execute(_ call: ContractCall, in context: inout TransactionContext) throws {
        let operation = try operation(of: call)
        let caller = BlacklistCaller(
            organizationID: context.organization.id, kind: context.organization.kind, signer: context.sender,
            transactionID: context.transactionID, blockHeight: context.blockHeight, blockTimeMs: context.blockTimestampMs)
        let state = BlacklistTransactionState(context: context)
        let parameters = try state.parameters()
        var book = BlacklistBook(state: state, parameters: parameters, caller: caller)
        switch operation {
        case .add: try book.add(AddBlacklistEntry(canonicalBytes: call.arguments))
        case .amend: try book.amend(AmendBlacklistEntry(canonicalBytes: call.arguments))
        case .corroborate: try book.corroborate(BlacklistOpinion(canonicalBytes: call.arguments))
        case .dispute: try book.dispute(BlacklistOpinion(canonicalBytes: call.arguments))
        case .appeal: try book.appeal(FileBlacklistAppeal(canonicalBytes: call.arguments))
        case .answer: try book.answer(AnswerBlacklistAppeal(canonicalBytes: call.arguments))
        case .revoke: try book.revoke(RevokeBlacklistEntry(canonicalBytes: call.arguments))
        case .settle: try book.settle(SettleBlacklistEntries(canonicalBytes: call.arguments))
        case .check:
            let arguments = try CheckBlacklistSubject(canonicalBytes: call.arguments)
            _ = try book.check([arguments.subject], purposeCode: arguments.purposeCode, batchSubjectsMax: 1)
        case .batchCheck:
            let arguments = try BatchCheckBlacklist(canonicalBytes: call.arguments)
            _ = try book.check(arguments.subjects, purposeCode: arguments.purposeCode, batchSubjectsMax: Int(parameters.batchSubjectsMax))
        }
        context = book.state.context
    }

    public func query(_ name: String, parameters: [String: String], in view: any QueryView) throws(QueryError) -> JSONValue {
        guard let query = Query(rawValue: name) else {
            throw QueryError(.unknownQuery, "blacklist has no query '\(name)' (\(Query.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return try BlacklistQueries(view: view).answer(query, parameters)
    }
}
