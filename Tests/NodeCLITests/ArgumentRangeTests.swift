import Foundation
import Testing
@testable import Node
@testable import NodeCLI

/// Numeric and date arguments out of range are refused as bad input with a
/// message naming the option, never trapped on (exit 132) or passed on.
@Suite struct ArgumentRangeTests {
    private let hash = String(repeating: "0", count: 64)

    @Test func transactionLifetime_mustFitAnyChainsLimit() {
        for ttl in ["0", "18446744073709551615", "18446744073709551000", "2147484"] {
            #expect(parseError(["tx", "submit", "--key", "k", "--contract", "c", "--operation", "o", "--ttl", ttl])?.contains("--ttl") == true, "\(ttl)")
            #expect(parseError(["statement", "import", "f.sta", "--key", "k", "--ttl", ttl])?.contains("--ttl") == true, "\(ttl)")
        }
        #expect(parseError(["tx", "submit", "--key", "k", "--contract", "c", "--operation", "o", "--ttl", "2147483"]) == nil)
    }

    @Test func times_before1970_orBeyond9999_areRefused() throws {
        let post = ["clearing", "post", "--key", "k", "--payment", "P", "--payer", "a:1", "--payee", "b:2", "--amount", "1.00",
                    "--currency", "CNY", "--channel", "X", "--status", "sent", "--timestamp"]
        for time in ["1969-12-31", "18446744073709551615", "253402300800000", "-1", "2026-02-30", "10000-01-01"] {
            #expect(parseError(post + [time])?.contains("--timestamp") == true, "\(time)")
            #expect(parseError(["clearing", "update", "--key", "k", "--payment", "P", "--status", "sent", "--timestamp", time])?
                .contains("--timestamp") == true, "\(time)")
            #expect(parseError(["blacklist", "add", "--key", "k", "--company", "91350100M000100Y43", "--reason", "fraud",
                                "--evidence-hash", hash, "--expires", time])?.contains("--expires") == true, "\(time)")
            #expect(parseError(["blacklist", "amend", "1", "--key", "k", "--expires", time])?.contains("--expires") == true, "\(time)")
        }
        #expect(parseError(post + ["1970-01-01"]) == nil)
        #expect(parseError(post + ["9999-12-31"]) == nil)
        #expect(parseError(post + ["253402300799999"]) == nil)
        #expect(try parseTimeOption("1970-01-02", "--t") == 86_400_000)
    }

    @Test func amountsIdsAndRates_outOfRange_areRefused() {
        #expect(parseError(["blacklist", "revoke", "0", "--key", "k", "--reason", "r"])?.contains("entry id") == true)
        #expect(parseError(["blacklist", "history", "0"])?.contains("entry id") == true)
        #expect(parseError(["statement", "confirm", "--key", "k", "--account", "A", "--statement", "S", "--balance", "20,00"])?
            .contains("--balance") == true)
        #expect(parseError(["statement", "dispute", "--key", "k", "--account", "A", "--statement", "S", "--reason", "r", "--claimed", "-5.00001"])?
            .contains("--claimed: '-5.00001' has more decimal places") == true)
        // A negative balance is typed as it reads.
        #expect(parseError(["statement", "confirm", "--key", "k", "--account", "A", "--statement", "S", "--balance", "-250.00"]) == nil)
        #expect(parseError(["books", "import", "b.csv", "--account", "A", "--key", "k", "--opening-balance", "-18.15"]) == nil)
        // The spelling is checked before the currency is known; the size after.
        #expect(parseError(["statement", "confirm", "--key", "k", "--account", "A", "--statement", "S", "--balance", "10000000000000.00"]) == nil)
        #expect(parseError(["books", "import", "b.csv", "--account", "A", "--key", "k", "--opening-balance", "1e9"])?
            .contains("--opening-balance") == true)
        #expect(parseError(["statement", "register-account", "--key", "k", "--account", "A", "--enterprise", "e", "--currency", "EUR",
                            "--fee-tolerance", "0.001"])?.contains("--fee-tolerance") == true)
        #expect(parseError(["statement", "register-account", "--key", "k", "--account", "A", "--enterprise", "e", "--currency", "CNY",
                            "--split-group-max", "1"])?.contains("splitGroupMax") == true)
        #expect(parseError(["receivable", "finance", "PO-1:1-100", "--key", "k", "--bank", "b", "--rate-bps", "0"])?.contains("--rate-bps") == true)
        #expect(parseError(["receivable", "finance", "PO-1:1-100", "--key", "k", "--bank", "b", "--rate-bps", "10001"])?.contains("--rate-bps") == true)
        #expect(parseError(["receivable", "transfer", "PO-1:1-100", "--key", "k", "--to", "x", "--amount", "0"])?.contains("--amount") == true)
        #expect(parseError(["receivable", "issue", "--key", "k", "--voucher", "V", "--supplier", "s", "--bank", "b", "--amount", "100",
                            "--issue-date", "2026-01-01", "--due-date", "2026-03-01", "--invoice", "I:0:2026-01-01:\(hash)"])?.contains("--invoice") == true)
        #expect(parseError(["clearing", "breaks", "--limit", "0"])?.contains("--limit") == true)
        // Receivable amounts are decimals of the currency, as a person reads them.
        #expect(parseError(["receivable", "issue", "--key", "k", "--voucher", "V", "--supplier", "s", "--bank", "b", "--amount", "100.001",
                            "--issue-date", "2026-01-01", "--due-date", "2026-03-01", "--invoice", "I:100.00:2026-01-01:\(hash)"])?
            .contains("--amount: '100.001' has more decimal places than the currency's 2") == true)
        #expect(parseError(["receivable", "issue", "--key", "k", "--voucher", "V", "--supplier", "s", "--bank", "b", "--amount", "100",
                            "--currency", "JPY", "--issue-date", "2026-01-01", "--due-date", "2026-03-01", "--invoice", "I:100.5:2026-01-01:\(hash)"])?
            .contains("--invoice") == true)
        #expect(parseError(["receivable", "credit-line", "--key", "k", "--issuer", "c", "--limit", "10,000.00"])?.contains("--limit") == true)
        #expect(parseError(["receivable", "transfer", "PO-1:1-100", "--key", "k", "--to", "x", "--amount", "1.2.3"])?.contains("--amount") == true)
        #expect(parseError(["clearing", "job", "watch", "--key", "k", "--state", "s", "--report-interval", "18446744073709551615"])?
            .contains("--report-interval") == true)
        #expect(parseError(["clearing", "job", "watch", "--key", "k", "--state", "s", "--save-interval", "18446744073709551615"])?
            .contains("--save-interval") == true)
        #expect(parseError(["bench", "ledger", "--transactions", "9223372036854775807"])?.contains("--transactions") == true)
    }

    /// These once trapped (exit 132) on converting the date.
    @Test func theCommandLine_exitsWith2_onDatesBefore1970_andUnparsableNumbers() throws {
        let directory = try TemporaryFolder()
        let key = directory.path + "/k.key"
        #expect(try runCLI(["keys", "generate", "--out", key]).status == 0)
        let node = ["--node", "http://127.0.0.1:9"]
        let listing = try runCLI(["blacklist", "add", "--key", key, "--company", "91350100M000100Y43", "--reason", "fraud",
                                  "--evidence-hash", hash, "--expires", "1969-12-31"] + node)
        #expect(listing.status == 2)
        #expect(listing.error.contains("1970-01-01"))
        let posting = try runCLI(["clearing", "post", "--key", key, "--payment", "P", "--payer", "a:1", "--payee", "b:2", "--amount", "1.00",
                                  "--currency", "CNY", "--channel", "X", "--status", "sent", "--timestamp", "1969-12-31"] + node)
        #expect(posting.status == 2)
        let lifetime = try runCLI(["tx", "submit", "--key", key, "--contract", "c", "--operation", "o", "--ttl", "18446744073709551615"] + node)
        #expect(lifetime.status == 2)
        #expect(lifetime.error.contains("--ttl"))
        let garbage = try runCLI(["tx", "submit", "--key", key, "--contract", "c", "--operation", "o", "--nonce", "abc"] + node)
        #expect(garbage.status == 2)
    }
}

/// Secret files that others may read are refused, with the command that fixes them.
@Suite struct KeyFilePermissionTests {
    private func setMode(_ mode: Int, _ path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o606])
    func keyFileOthersMayRead_isRefused_withTheChmodThatFixesIt(mode: Int) throws {
        let directory = try TemporaryFolder()
        let key = directory.path + "/signer.key"
        #expect(try runCLI(["keys", "generate", "--out", key]).status == 0)
        try setMode(mode, key)
        let shown = try runCLI(["keys", "show", key])
        #expect(shown.status == 2)
        #expect(shown.error.contains("chmod 600 \(key)"))
        let signed = try runCLI(["tx", "submit", "--key", key, "--contract", "c", "--operation", "o", "--node", "http://127.0.0.1:9"])
        #expect(signed.status == 2)
        #expect(signed.error.contains("chmod 600 \(key)"))
        try setMode(0o600, key)
        #expect(try runCLI(["keys", "show", key]).status == 0)
        try setMode(0o400, key)
        #expect(try runCLI(["keys", "show", key]).status == 0)
    }

    @Test func consortiumKeyFileOthersMayRead_isRefused() throws {
        let directory = try TemporaryFolder()
        let key = directory.path + "/signer.key"
        #expect(try runCLI(["keys", "generate", "--out", key]).status == 0)
        let consortium = directory.path + "/consortium.key"
        try Data(String(repeating: "ab", count: 32).utf8).write(to: URL(fileURLWithPath: consortium))
        try setMode(0o644, consortium)
        let result = try runCLI(["blacklist", "check", "--key", key, "--person", "110101199003070011", "--consortium-key-file", consortium,
                                 "--purpose", "loan_review", "--node", "http://127.0.0.1:9"])
        #expect(result.status == 2)
        #expect(result.error.contains("chmod 600 \(consortium)"))
    }

    @Test func aKeyReachedThroughALink_isJudgedByItsTarget() throws {
        let directory = try TemporaryFolder()
        let key = directory.path + "/signer.key"
        #expect(try runCLI(["keys", "generate", "--out", key]).status == 0)
        let link = directory.path + "/link.key"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: key)
        #expect(throws: Never.self) { try KeyFile.read(link) }
        try setMode(0o644, key)
        #expect(throws: ConfigError.self) { try KeyFile.read(link) }
    }
}
