import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import NodeClient

// The accountant's commands on matches and book entries: `statement match`,
// `unmatch`, `review-match` and `matches`, and `books correct`.

extension StatementCommand {
    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match open bank lines and book entries by hand, with a reason (bank or enterprise key).",
            discussion: """
                Give each bank line by its item id (statement/line, as `consort reconcile status` and the statement query show it) \
                and each book entry by its entry id. The sums may differ: the difference is kept with the match and shown as an \
                outstanding item of the reconciliation statement. Items of one side only match when they cancel out.
                """)
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "A bank line's item id, statement/line (repeatable; at least two items in all, lines and entries together, are required).") var line: [String] = []
        @Option(name: .long, help: "A book entry's id (repeatable; at least two items in all, lines and entries together, are required).") var entry: [String] = []
        @Option(name: .long, help: "Why these items belong together; kept with the match.") var reason: String

        func validate() throws {
            guard line.count + entry.count >= 2 else { throw ValidationError("give at least two items with --line and --entry") }
            guard line.count <= StatementsLimits.matchMembersMax, entry.count <= StatementsLimits.matchMembersMax else {
                throw ValidationError("at most \(StatementsLimits.matchMembersMax) --line and \(StatementsLimits.matchMembersMax) --entry")
            }
            try ArgumentRanges.checkReason(reason, "--reason")
        }

        func run() async throws {
            try await runReporting {
                let arguments = ManualMatch(account: account, bankItems: line, bookEntries: entry, reason: reason, bank: bank)
                try await submitAndReport(StatementsContract.call(.matchItems, arguments), options: options, signing: signing)
            }
        }
    }

    struct Unmatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dissolve a match, with a reason; its items are open again (bank or enterprise key).",
            discussion: "The match stays on the ledger, marked dissolved with who did it and why. The items are not matched again at once: a later arrival or `consort statement match` matches them.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .customLong("match"), help: "The match id (`consort statement matches`).") var matchID: UInt64
        @Option(name: .long, help: "Why the match was wrong; kept with it.") var reason: String

        func validate() throws { try ArgumentRanges.checkReason(reason, "--reason") }

        func run() async throws {
            try await runReporting {
                let arguments = Contracts.Unmatch(account: account, matchID: matchID, reason: reason, bank: bank)
                try await submitAndReport(StatementsContract.call(.unmatch, arguments), options: options, signing: signing)
            }
        }
    }

    struct ReviewMatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review-match",
            abstract: "Confirm an ambiguous automatic match, with a reason (bank or enterprise key).",
            discussion: "A match is ambiguous when the matcher chose among equally good candidates; `consort statement matches --ambiguous` lists them. A wrong one is undone with `consort statement unmatch` instead.")
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .customLong("match"), help: "The match id.") var matchID: UInt64
        @Option(name: .long, help: "Why the chosen items are the right ones; kept with the match.") var reason: String

        func validate() throws { try ArgumentRanges.checkReason(reason, "--reason") }

        func run() async throws {
            try await runReporting {
                let arguments = Contracts.ReviewMatch(account: account, matchID: matchID, reason: reason, bank: bank)
                try await submitAndReport(StatementsContract.call(.reviewMatch, arguments), options: options, signing: signing)
            }
        }
    }

    struct Matches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's matches, with their rule, items and who made, reviewed or dissolved them.")
        @OptionGroup var options: NodeOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Flag(name: .long, help: "Only the ambiguous matches that await review.") var ambiguous = false
        @Option(name: .long, help: "List matches after this id.") var after: UInt64?
        @Option(name: .long, help: "The most matches listed (1…100000).") var limit: Int = 1000

        func validate() throws {
            try ArgumentRanges.check(limit, 1...StatementsLimits.queryRecordsListedMax, "--limit")
            if ambiguous && after != nil { throw ValidationError("--after lists all matches; --ambiguous lists the first \(StatementsLimits.statusItemsListedMax) that await review") }
        }

        func run() async throws {
            try await runReporting {
                let matches: JSONValue
                let height: UInt64
                if ambiguous {
                    let status = try await options.client().query(contract: StatementsContract.name, "status", parameters: accountParameters(account, bank))
                    matches = status.result["ambiguousMatches"]?["items"] ?? .array([])
                    height = status.height
                } else {
                    var parameters = accountParameters(account, bank)
                    parameters["limit"] = String(limit)
                    if let after { parameters["after"] = String(after) }
                    let answer = try await options.client().query(contract: StatementsContract.name, "matches", parameters: parameters)
                    (matches, height) = (answer.result, answer.height)
                }
                if options.json {
                    try printJSON(QueryOutput(height: height, result: matches))
                } else {
                    print(renderMatches(matches.arrayValue ?? []), terminator: "")
                }
            }
        }
    }
}

/// Matches (the statements contract's `matches` answer) as text, one block each.
func renderMatches(_ matches: [JSONValue]) -> String {
    guard !matches.isEmpty else { return "no matches\n" }
    var out = ""
    for match in matches {
        let id = match["id"]?.intValue.map(String.init) ?? "?"
        let rule = match["rule"]?.stringValue ?? "?"
        var state = "matched"
        if match["dissolved"]?.boolValue == true { state = "dissolved" } else if match["awaitsReview"]?.boolValue == true { state = "AMBIGUOUS" }
        let bank = match["bankItems"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        let book = match["bookItems"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        out += "match \(id)  \(rule)  \(state)\n"
        out += "  bank: \(bank.isEmpty ? "-" : bank)   books: \(book.isEmpty ? "-" : book)\n"
        if let difference = match["differenceMinor"]?.intValue, difference != 0 { out += "  difference: \(difference) minor units\n" }
        out += "  made by \(match["made"]?["organization"]?.stringValue ?? "?") at height \(match["made"]?["height"]?.intValue ?? 0)"
        if let reason = match["reason"]?.stringValue, !reason.isEmpty { out += ": \(reason)" }
        out += "\n"
        let alternatives = match["alternatives"]?.arrayValue?.compactMap { $0["itemId"]?.stringValue } ?? []
        if !alternatives.isEmpty { out += "  equally good alternatives: \(alternatives.joined(separator: ", "))\n" }
        if let reviewed = match["reviewed"], reviewed != .null {
            out += "  reviewed by \(reviewed["by"]?["organization"]?.stringValue ?? "?"): \(reviewed["reason"]?.stringValue ?? "")\n"
        }
        if let dissolution = match["dissolution"], dissolution != .null {
            out += "  dissolved by \(dissolution["by"]?["organization"]?.stringValue ?? "?"): \(dissolution["reason"]?.stringValue ?? "")\n"
        }
    }
    return out
}

extension BooksCommand {
    struct Correct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a posted book entry by a reversing entry and, optionally, a replacement (enterprise key).",
            discussion: """
                The entry stays as it was posted. The correction posts a reversing entry, whose id is --correction, with the \
                opposite amount, matched with the entry; a match the entry was in is dissolved and its other items are matched \
                anew. With --replacement-id and --replacement-amount a new entry takes the corrected one's place (its date, \
                reference and counterparty default to the corrected entry's). Amounts are decimals with '.' in the account's currency.
                """)
        @OptionGroup var options: NodeOptions
        @OptionGroup var signing: SigningOptions
        @Option(name: .long) var account: String
        @Option(name: .long, help: "The bank holding the account, when several banks hold that account number.") var bank: String?
        @Option(name: .long, help: "The entry corrected.") var entry: String
        @Option(name: .long, help: "The correction's id, which the reversing entry takes; unique among entries and batches.") var correction: String
        @Option(name: .long, help: "Why; kept as the reversing entry's memo and with the matches.") var reason: String
        @Option(name: .long, help: "The reversing entry's date, YYYY-MM-DD (default: the corrected entry's date).") var date: String?
        @Option(name: .long, help: "The replacement entry's id.") var replacementId: String?
        @Option(name: .long, help: "The replacement's amount, a signed decimal with '.'.") var replacementAmount: String?
        @Option(name: .long, help: "The replacement's date, YYYY-MM-DD.") var replacementDate: String?
        @Option(name: .long, help: "The replacement's reference.") var replacementReference: String?
        @Option(name: .long, help: "The replacement's counterparty.") var replacementCounterparty: String?
        @Option(name: .long, help: "The replacement's memo (default: the reason).") var replacementMemo: String?

        func validate() throws {
            try ArgumentRanges.checkReason(reason, "--reason")
            for (name, value) in [("--date", date), ("--replacement-date", replacementDate)] {
                if let value, CalendarDate(iso: Substring(value)) == nil || value.count != 10 {
                    throw ValidationError("\(name) must be YYYY-MM-DD, got '\(value)'")
                }
            }
            let replacementGiven = [replacementAmount, replacementDate, replacementReference, replacementCounterparty, replacementMemo].contains { $0 != nil }
            if replacementId == nil && replacementGiven {
                throw ValidationError("the --replacement-… options describe a replacement entry: give its id with --replacement-id")
            }
            if replacementId != nil && replacementAmount == nil {
                throw ValidationError("a replacement entry needs --replacement-amount")
            }
        }

        func run() async throws {
            try await runReporting {
                let client = try options.client()
                let corrected = try await client.query(contract: StatementsContract.name, "bookEntry", parameters: accountParameters(account, bank).merging(["entryId": entry]) { $1 }).result
                var replacement: BookEntryInput?
                if let replacementId, let replacementAmount {
                    let currency = corrected["currency"]?.stringValue ?? ""
                    guard let exponent = ISO4217.exponent(of: currency) else { throw CLIError("the entry's currency '\(currency)' is unknown", .failed) }
                    let amount: Int64
                    switch ISO4217.minorUnits(Substring(replacementAmount), separator: ".", exponent: exponent) {
                    case .success(let minor): amount = minor
                    case .failure(let problem): throw CLIError("--replacement-amount '\(replacementAmount)': \(problem)", .badInput)
                    }
                    let dateText = replacementDate ?? corrected["date"]?.stringValue ?? ""
                    guard let entryDate = CalendarDate(iso: Substring(dateText)) else { throw CLIError("the entry's date '\(dateText)' does not read", .failed) }
                    replacement = BookEntryInput(entryID: replacementId, date: entryDate, amountMinor: amount, currency: currency,
                                                 reference: replacementReference ?? corrected["reference"]?.stringValue,
                                                 counterparty: replacementCounterparty ?? corrected["counterparty"]?.stringValue,
                                                 memo: replacementMemo ?? reason)
                }
                let arguments = CorrectBookEntry(account: account, correctionID: correction, entryID: entry, reason: reason,
                                                 date: date.flatMap { CalendarDate(iso: Substring($0)) }, replacement: replacement, bank: bank)
                try await submitAndReport(StatementsContract.call(.correctBookEntry, arguments), options: options, signing: signing)
            }
        }
    }
}
