import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

/// Options naming a blacklist subject. A person's identifier is hashed here,
/// with the consortium key, before anything leaves the machine.
struct SubjectOptions: ParsableArguments {
    @Option(name: .long, help: "A company's unified social credit code (18 characters); one subject is required: this, --person or --person-hash.")
    var company: String?

    @Option(name: .long, help: "A person's identifier, hashed locally with the consortium key and never sent; one subject is required: this, --company or --person-hash.")
    var person: String?

    @Option(name: .long, help: "A person's subject hash (64 hex digits) computed earlier; one subject is required: this, --company or --person.")
    var personHash: String?

    @Option(name: .long, help: "File holding the consortium's HMAC key in hex (default: $CONSORT_CONSORTIUM_KEY_FILE).")
    var consortiumKeyFile: String?

    func subject() throws -> BlacklistSubject {
        let given = [company != nil, person != nil, personHash != nil].filter { $0 }.count
        guard given == 1 else { throw CLIError("name exactly one subject: --company, --person or --person-hash", .badInput) }
        do {
            if let company { return try BlacklistSubject.company(creditCode: company) }
            if let personHash {
                guard let bytes = Hex.decode(personHash) else { throw CLIError("--person-hash is not hex", .badInput) }
                return try BlacklistSubject.person(hash: bytes)
            }
            guard let person else { throw CLIError("no subject given", .badInput) }
            let keyPath = consortiumKeyFile ?? ProcessInfo.processInfo.environment["CONSORT_CONSORTIUM_KEY_FILE"]
            guard let keyPath else {
                throw CLIError("hashing a person's identifier needs the consortium key: --consortium-key-file or $CONSORT_CONSORTIUM_KEY_FILE", .badInput)
            }
            let key = try KeyFile.readHexSecret(keyPath)
            return try BlacklistSubject.person(identifier: person, consortiumKey: key)
        } catch let error as BlacklistSubjectError {
            throw CLIError(error.description, .badInput)
        }
    }
}

/// The kinds of code the genesis defines for the blacklist. A command
/// checks its code against the node's list before it signs anything, so a
/// mistyped code never costs a rejected transaction.
enum BlacklistCode: CaseIterable {
    case reason
    case purpose

    /// The option that takes a code of this kind.
    var option: String {
        switch self {
        case .reason: "--reason"
        case .purpose: "--purpose"
        }
    }

    var title: String {
        switch self {
        case .reason: "blacklist reason codes (blacklist add --reason, amend --reason)"
        case .purpose: "blacklist purpose codes (blacklist check --purpose)"
        }
    }

    func codes(in parameters: BlacklistParametersAnswer) -> [String] {
        switch self {
        case .reason: parameters.reasonCodes
        case .purpose: parameters.purposeCodes
        }
    }

    /// Refuses `code` unless the node's genesis defines it, naming the codes it does define.
    func require(_ code: String, options: NodeOptions) async throws {
        let parameters = try await options.client().query(contract: BlacklistContract.name, "parameters", as: BlacklistParametersAnswer.self)
        let allowed = codes(in: parameters)
        guard allowed.contains(code) else {
            throw CLIError("\(option) '\(code)' is not a code of this consortium; its genesis defines \(allowed.joined(separator: ", ")) "
                + "(`consort genesis codes` lists every code)", .badInput)
        }
    }
}

/// Entry ids are numbered from 1.
func checkEntryID(_ entry: UInt64) throws {
    try ArgumentRanges.check(entry, 1...UInt64.max, "the entry id")
}

struct BlacklistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blacklist",
        abstract: "The shared blacklist: entries with provenance, disputes, appeals and metered checks.",
        subcommands: [Add.self, Amend.self, Corroborate.self, Dispute.self, Appeal.self, Answer.self, Revoke.self, Check.self,
                      History.self, Report.self, Show.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a subject (bank, clearing house or regulator).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var subject: SubjectOptions
        @Option(name: .long, help: "A reason code from the genesis list.") var reason: String
        @Option(name: .long, help: "SHA-256 of the evidence, hex (this or --evidence-file is required).") var evidenceHash: String?
        @Option(name: .long, help: "A file whose SHA-256 is the evidence hash (this or --evidence-hash is required).") var evidenceFile: String?
        @Option(name: .long, help: "Expiry (YYYY-MM-DD or ms since 1970).") var expires: String?
        @Option(name: .long, help: "A note (no personal identifiers).") var note: String?

        func validate() throws {
            _ = try validating { try expires.map { try parseTimeOption($0, "--expires") } }
        }

        func run() async throws {
            try await runReporting {
                guard let evidence = try hashOption(hex: evidenceHash, file: evidenceFile, "evidence-hash") else {
                    throw CLIError("give --evidence-hash or --evidence-file", .badInput)
                }
                let arguments = AddBlacklistEntry(subject: try subject.subject(), reasonCode: reason, evidenceHash: evidence,
                                                  expiresAtMs: try expires.map { try parseTimeOption($0, "--expires") }, note: note)
                try await BlacklistCode.reason.require(reason, options: options)
                try await submitAndReport(BlacklistContract.call(.add, arguments), options: options, signing: signing)
            }
        }
    }

    struct Amend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Amend your entry's reason, expiry, evidence or note (kept as a new version).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64
        @Option(name: .long) var reason: String?
        @Option(name: .long, help: "Expiry (YYYY-MM-DD or ms since 1970).") var expires: String?
        @Option(name: .long) var evidenceHash: String?
        @Option(name: .long) var note: String?

        func validate() throws {
            try checkEntryID(entry)
            _ = try validating { try expires.map { try parseTimeOption($0, "--expires") } }
        }

        func run() async throws {
            try await runReporting {
                let arguments = AmendBlacklistEntry(
                    entryID: entry, reasonCode: reason, expiresAtMs: try expires.map { try parseTimeOption($0, "--expires") },
                    evidenceHash: try evidenceHash.map { try parseHashOption($0, "--evidence-hash") }, note: note)
                if let reason { try await BlacklistCode.reason.require(reason, options: options) }
                try await submitAndReport(BlacklistContract.call(.amend, arguments), options: options, signing: signing)
            }
        }
    }

    /// Options of an opinion on another institution's entry.
    struct OpinionOptions: ParsableArguments {
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64
        @Option(name: .long) var reason: String
        @Option(name: .long) var evidenceHash: String?

        func validate() throws { try checkEntryID(entry) }

        func submit(_ operation: BlacklistContract.Operation, options: NodeOptions, signing: SigningOptions) async throws {
            let arguments = BlacklistOpinion(entryID: entry, reason: reason, evidenceHash: try evidenceHash.map { try parseHashOption($0, "--evidence-hash") })
            try await submitAndReport(BlacklistContract.call(operation, arguments), options: options, signing: signing)
        }
    }

    struct Corroborate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Support another institution's entry.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var opinion: OpinionOptions

        func run() async throws {
            try await runReporting { try await opinion.submit(.corroborate, options: options, signing: signing) }
        }
    }

    struct Dispute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Contest another institution's entry.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var opinion: OpinionOptions

        func run() async throws {
            try await runReporting { try await opinion.submit(.dispute, options: options, signing: signing) }
        }
    }

    struct Appeal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "As the subject's bank, appeal an entry (异议); freezes it until the uploader answers.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64
        @Option(name: .long) var reason: String
        @Option(name: .long, help: "SHA-256 of the customer-relationship record, hex.") var relationshipHash: String
        @Flag(name: .long, help: "Declare that the subject is this bank's customer (required).") var subjectIsCustomer = false

        func validate() throws { try checkEntryID(entry) }

        func run() async throws {
            try await runReporting {
                let arguments = FileBlacklistAppeal(entryID: entry, reason: reason, declaresSubjectIsCustomer: subjectIsCustomer,
                                                    relationshipEvidenceHash: try parseHashOption(relationshipHash, "--relationship-hash"))
                try await submitAndReport(BlacklistContract.call(.appeal, arguments), options: options, signing: signing)
            }
        }
    }

    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer an appeal on your entry: maintain or withdraw it.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64
        @Option(name: .long, help: "maintain or withdraw.") var decision: String
        @Option(name: .long) var reason: String

        func validate() throws { try checkEntryID(entry) }

        func run() async throws {
            try await runReporting {
                guard let parsed = BlacklistAppealDecision(rawValue: decision) else { throw CLIError("--decision must be maintain or withdraw", .badInput) }
                let arguments = AnswerBlacklistAppeal(entryID: entry, decision: parsed, reason: reason)
                try await submitAndReport(BlacklistContract.call(.answer, arguments), options: options, signing: signing)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an entry off the list (its uploader, or a regulator).")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64
        @Option(name: .long) var reason: String

        func validate() throws { try checkEntryID(entry) }

        func run() async throws {
            try await runReporting {
                try await submitAndReport(BlacklistContract.call(.revoke, RevokeBlacklistEntry(entryID: entry, reason: reason)), options: options, signing: signing)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a subject; the check is recorded on the ledger and counts against your allowance.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @OptionGroup var subject: SubjectOptions
        @Option(name: .long, help: "Why you are looking: a purpose code from the genesis list.") var purpose: String

        func run() async throws {
            try await runReporting {
                let arguments = CheckBlacklistSubject(subject: try subject.subject(), purposeCode: purpose)
                try await BlacklistCode.purpose.require(purpose, options: options)
                try await submitAndReport(BlacklistContract.call(.check, arguments), options: options, signing: signing) { committed in
                    printCheckResult(BlacklistCheckResult(events: committed.receipt.events.map(\.event)))
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The provenance of an entry: every step with signer, transaction, height, time and the block's commit certificate.")
        @OptionGroup var options: NodeOptions
        @Argument(help: "The entry's number, as `blacklist add` printed it.") var entry: UInt64

        func validate() throws { try checkEntryID(entry) }

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: BlacklistContract.name, "provenance", ["id": String(entry)]) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an entry, or a subject's entries and who looked it up.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long, help: "The entry's number, as `blacklist add` printed it (this or a subject is required).") var entry: UInt64?
        @OptionGroup var subject: SubjectOptions

        func validate() throws { try entry.map(checkEntryID) }

        func run() async throws {
            try await runReporting {
                if let entry {
                    try await queryAndPrint(options, contract: BlacklistContract.name, "entry", ["id": String(entry)])
                } else {
                    try await queryAndPrint(options, contract: BlacklistContract.name, "subject", ["subject": try subject.subject().text])
                }
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An institution's contribution report: entries, corroborations, disputes won and lost, checks.")
        @OptionGroup var options: NodeOptions
        @Argument(help: "Organization id.") var organization: String

        func run() async throws {
            try await runReporting { try await queryAndPrint(options, contract: BlacklistContract.name, "report", ["organization": organization]) }
        }
    }
}

/// Prints what a check found: the subjects with live entries, each entry as
/// the check recorded it, and the institution's use of its allowance.
func printCheckResult(_ result: BlacklistCheckResult?) {
    guard let result else {
        print("  the receipt holds no check summary")
        return
    }
    let found = result.matches.isEmpty ? "no live entries" : "\(result.matches.count) with live entries"
    print("  purpose \(result.purposeCode): \(result.subjects) subject(s) checked, \(found); "
        + "\(result.subjectsCheckedTotal) checked in all against an allowance of \(result.allowance)")
    for match in result.matches {
        print("  \(match.subject):")
        for entry in match.entries { print("    \(entry)") }
        if match.omitted > 0 { print("    … and \(match.omitted) more; `consort blacklist show` with the same subject lists them all") }
    }
}
