import Ledger
import LedgerCore

/// The blacklist's checks that need no state, run when a transaction is
/// admitted to the mempool: a refused transaction is still kept in its block,
/// so what protects personal data must refuse it before then. A call is
/// refused if its arguments do not decode, if a subject is malformed (a
/// person given other than as a keyed hash), or if free text or a code holds
/// what looks like a personal identifier (``PersonalIdentifiers``; the
/// genesis code lists never hold one).
/// Execution applies the same rules again.
enum BlacklistAdmission {
    /// Why `arguments` of `operation` must not be pooled, or nil if they may.
    static func rejection(_ operation: BlacklistContract.Operation, _ arguments: [UInt8]) throws(CodecError) -> Rejection? {
        switch operation {
        case .add:
            let call = try AddBlacklistEntry(canonicalBytes: arguments)
            return call.subject.rejection
                ?? identifierRejection(in: call.reasonCode, field: "the reason code")
                ?? call.note.flatMap { identifierRejection(in: $0, field: "the note") }
        case .amend:
            let call = try AmendBlacklistEntry(canonicalBytes: arguments)
            return call.reasonCode.flatMap { identifierRejection(in: $0, field: "the reason code") }
                ?? call.note.flatMap { identifierRejection(in: $0, field: "the note") }
        case .corroborate, .dispute:
            return identifierRejection(in: try BlacklistOpinion(canonicalBytes: arguments).reason, field: "the reason")
        case .appeal:
            return identifierRejection(in: try FileBlacklistAppeal(canonicalBytes: arguments).reason, field: "the reason")
        case .answer:
            return identifierRejection(in: try AnswerBlacklistAppeal(canonicalBytes: arguments).reason, field: "the reason")
        case .revoke:
            return identifierRejection(in: try RevokeBlacklistEntry(canonicalBytes: arguments).reason, field: "the reason")
        case .check:
            let call = try CheckBlacklistSubject(canonicalBytes: arguments)
            return call.subject.rejection ?? identifierRejection(in: call.purposeCode, field: "the purpose code")
        case .batchCheck:
            let call = try BatchCheckBlacklist(canonicalBytes: arguments)
            return call.subjects.lazy.compactMap(\.rejection).first ?? identifierRejection(in: call.purposeCode, field: "the purpose code")
        case .settle:
            _ = try SettleBlacklistEntries(canonicalBytes: arguments)
            return nil
        }
    }

    /// The rejection of text that looks like it holds a personal identifier.
    static func identifierRejection(in text: String, field: String) -> Rejection? {
        guard PersonalIdentifiers.appear(in: text) else { return nil }
        return Rejection(code: "identifier_in_text", message: """
            \(field) contains \(PersonalIdentifiers.digitsMin) or more digits (counting digits split by spaces, dashes, dots or slashes), \
            which looks like a personal identifier; put identifiers only in the hashed subject and sign the transaction again without it
            """)
    }
}
