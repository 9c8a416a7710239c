import Foundation
import Testing
import Contracts
import ConsortTesting
import Ledger
import LedgerCore
import Node

/// The accountant's day through the binary: imports that can be run again,
/// manual matching, review, unmatching and correcting an entry.
@Suite(.serialized) struct AccountantCommandTests {
    static let account = "NL72CNST0123456789"

    /// bankA holds `account` for acme; both keys are written to a temporary folder.
    static func withChain(_ body: (CommittingBackend, _ node: [String], _ bankKey: String, _ acmeKey: String, _ folder: String) async throws -> Void) async throws {
        let chain = try LocalConsortium(organizations: [("bankA", .bank), ("acme", .enterprise)], genesisTimestampMs: wallClockMs())
        try #require(try chain.submit("bankA", StatementsContract.call(.registerAccount, RegisterAccount(account: account, enterpriseID: "acme", currency: "EUR"))).isSuccess)
        try #require(try chain.submit("acme", StatementsContract.call(.acceptAccount, AcceptAccount(account: account, bank: "bankA"))).isSuccess)
        let folder = try TemporaryFolder()
        try KeyFile.write(chain.member("bankA").key, to: folder.path + "/bankA.key")
        try KeyFile.write(chain.member("acme").key, to: folder.path + "/acme.key")
        let backend = CommittingBackend(chain: chain)
        try await withAPIServer(backend) { client in
            try await body(backend, ["--node", client.baseURL], folder.path + "/bankA.key", folder.path + "/acme.key", folder.path)
        }
    }

    static func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func statementFile(amount: String) -> String {
        """
        :20:DAY-1
        :25:\(account)
        :28C:1/1
        :60F:C260105EUR1000,00
        :61:2601050105C\(amount)NTRFNONREF//B-1
        :86:Initech invoice 4711
        :62F:C260105EUR\(amount == "49,00" ? "1049,00" : "1050,00")
        -
        """
    }

    @Test func statementImport_again_skipsWhatIsOnTheLedger_andOtherContentUnderItsIDPostsNothing() async throws {
        try await Self.withChain { backend, node, bankKey, _, folder in
            let file = folder + "/day1.sta"
            try Self.write(Self.statementFile(amount: "49,00"), file)
            let first = try await runConsortAsync(["statement", "import", file, "--key", bankKey] + node)
            #expect(first.status == 0, "\(first.err)")
            let height = backend.ledger.head.height
            let again = try await runConsortAsync(["statement", "import", file, "--key", bankKey] + node)
            #expect(again.status == 0, "\(again.err)")
            #expect(again.out.contains("statement DAY-1 of \(Self.account): already on the ledger (height \(height)), skipped"), "\(again.out)")
            #expect(again.out.contains("nothing submitted"))
            #expect(backend.ledger.head.height == height, "nothing was submitted")

            let changed = folder + "/day1-changed.sta"
            try Self.write(Self.statementFile(amount: "50,00"), changed)
            let refused = try await runConsortAsync(["statement", "import", changed, "--key", bankKey] + node)
            #expect(refused.status == 2)
            #expect(refused.err.contains("other content is already on the ledger under the id of statement DAY-1"), "\(refused.err)")
            #expect(refused.err.contains("nothing from the file was posted") && refused.err.contains("--corrects"))
            #expect(backend.ledger.head.height == height)
        }
    }

    @Test func statementImport_toAnUnregisteredAccount_postsNothingAndNamesTheCommand() async throws {
        try await Self.withChain { backend, node, bankKey, _, folder in
            let file = folder + "/other.sta"
            try Self.write(Self.statementFile(amount: "49,00").replacingOccurrences(of: Self.account, with: "DE02100100100006820101"), file)
            let height = backend.ledger.head.height
            let refused = try await runConsortAsync(["statement", "import", file, "--key", bankKey] + node)
            #expect(refused.status == 2)
            #expect(refused.err.contains("account 'DE02100100100006820101' is not registered") && refused.err.contains("consort statement register-account"),
                    "\(refused.err)")
            #expect(backend.ledger.head.height == height)
        }
    }

    @Test func booksImport_again_isRecognised_andAGrownFilePostsOnlyTheNewEntries() async throws {
        try await Self.withChain { backend, node, _, acmeKey, folder in
            let header = "entry_id,date,amount,currency,counterparty\n"
            let rows = ["E1,2026-01-04,49.00,EUR,Initech", "E2,2026-01-06,49.00,EUR,Initech", "E3,2026-01-07,-12.00,EUR,Landlord"]
            let file = folder + "/books.csv"
            try Self.write(header + rows.prefix(2).joined(separator: "\n") + "\n", file)
            let first = try await runConsortAsync(["books", "import", file, "--account", Self.account, "--batch-size", "2", "--key", acmeKey] + node)
            #expect(first.status == 0, "\(first.err)")
            let again = try await runConsortAsync(["books", "import", file, "--account", Self.account, "--batch-size", "2", "--key", acmeKey] + node)
            #expect(again.status == 0, "\(again.err)")
            #expect(again.out.contains("book_entries_already_posted"), "\(again.out)")

            try Self.write(header + rows.joined(separator: "\n") + "\n", file)
            let grown = try await runConsortAsync(["books", "import", file, "--account", Self.account, "--batch-size", "2", "--key", acmeKey] + node)
            #expect(grown.status == 0, "\(grown.err)")
            let entries = try backend.ledger.query(contract: "statements", "bookEntries", parameters: ["account": Self.account]).arrayValue ?? []
            #expect(entries.map { $0["entryId"]?.stringValue } == ["E1", "E2", "E3"])

            try Self.write(header + "E2,2026-01-06,48.00,EUR,Initech\n", file)
            let conflict = try await runConsortAsync(["books", "import", file, "--account", Self.account, "--key", acmeKey] + node)
            #expect(conflict.status == 1)
            #expect(conflict.out.contains("entry_conflict") && conflict.out.contains("consort books correct"), "\(conflict.out)")
            #expect(conflict.err.contains("run the same command again to post the rest"), "\(conflict.err)")
        }
    }

    @Test func reviewUnmatchMatchAndCorrect_throughTheBinary() async throws {
        try await Self.withChain { backend, node, bankKey, acmeKey, folder in
            let books = folder + "/books.csv"
            try Self.write("entry_id,date,amount,currency,counterparty\nE1,2026-01-04,49.00,EUR,Initech\nE2,2026-01-06,49.00,EUR,Initech\n", books)
            #expect(try await runConsortAsync(["books", "import", books, "--account", Self.account, "--opening-balance", "1000.00", "--key", acmeKey] + node).status == 0)
            let statement = folder + "/day1.sta"
            try Self.write(Self.statementFile(amount: "49,00"), statement)
            let imported = try await runConsortAsync(["statement", "import", statement, "--key", bankKey] + node)
            #expect(imported.status == 0, "\(imported.err)")

            let ambiguous = try await runConsortAsync(["statement", "matches", "--account", Self.account, "--ambiguous"] + node)
            #expect(ambiguous.status == 0, "\(ambiguous.err)")
            #expect(ambiguous.out.contains("match 1  amount_date  AMBIGUOUS"), "\(ambiguous.out)")
            #expect(ambiguous.out.contains("equally good alternatives: E2"))
            let report = try await runConsortAsync(["reconcile", "report", "--account", Self.account, "--date", "2026-01-31"] + node)
            #expect(report.out.contains("Ambiguous matches to review: 1"), "\(report.out)")

            let unmatched = try await runConsortAsync(["statement", "unmatch", "--account", Self.account, "--match", "1",
                                                       "--reason", "the advice names invoice 4712, booked as E2", "--key", acmeKey] + node)
            #expect(unmatched.status == 0, "\(unmatched.err)")
            let matched = try await runConsortAsync(["statement", "match", "--account", Self.account, "--line", "DAY-1/1", "--entry", "E2",
                                                     "--reason", "advice of 5 January names invoice 4712", "--key", acmeKey] + node)
            #expect(matched.status == 0, "\(matched.err)")
            let listed = try await runConsortAsync(["statement", "matches", "--account", Self.account] + node)
            #expect(listed.out.contains("match 1  amount_date  dissolved"), "\(listed.out)")
            #expect(listed.out.contains("dissolved by acme: the advice names invoice 4712, booked as E2"))
            #expect(listed.out.contains("match 2  manual  matched"))
            #expect(listed.out.contains("made by acme at height") && listed.out.contains(": advice of 5 January names invoice 4712"))

            let busy = try await runConsortAsync(["statement", "match", "--account", Self.account, "--line", "DAY-1/1", "--entry", "E1",
                                                  "--reason", "again", "--key", acmeKey] + node)
            #expect(busy.status == 1)
            #expect(busy.out.contains("item_not_open") && busy.out.contains("consort statement unmatch"), "\(busy.out)")

            let corrected = try await runConsortAsync(["books", "correct", "--account", Self.account, "--entry", "E1", "--correction", "C-1",
                                                       "--reason", "E1 was a duplicate of E2", "--key", acmeKey] + node)
            #expect(corrected.status == 0, "\(corrected.err)")
            let entries = try backend.ledger.query(contract: "statements", "bookEntries", parameters: ["account": Self.account]).arrayValue ?? []
            #expect(entries.map { $0["entryId"]?.stringValue } == ["C-1", "E1", "E2"])
            #expect(entries.first?["amountMinor"]?.intValue == -4_900)
            let balanced = try backend.ledger.query(contract: "statements", "report", parameters: ["account": Self.account, "date": "2026-01-31"])
            #expect(balanced["agrees"]?.boolValue == true)

            let missing = try await runConsortAsync(["books", "correct", "--account", Self.account, "--entry", "E9", "--correction", "C-2",
                                                     "--reason", "none", "--key", acmeKey] + node)
            #expect(missing.status != 0)
            #expect(missing.err.contains("no book entry 'E9'"), "\(missing.err)")
            let noReason = try await runConsortAsync(["statement", "unmatch", "--account", Self.account, "--match", "2", "--reason", " ", "--key", acmeKey] + node)
            #expect(noReason.status == 2)
            #expect(noReason.err.contains("--reason must say why"))
        }
    }
}
