import Foundation
import Testing
import LedgerCore
import ConsortTesting

/// Every command of `consort`, found by walking the help from the top: its
/// help answers, an unknown option is refused with exit 2 and a pointer to
/// that help, and each command that talks to a node, given what its usage
/// requires, says it cannot reach a node that is not there and exits 3 (a
/// long-running job keeps retrying and says so).
///
/// The children are awaited off the cooperative pool (`offPool`) and
/// run one at a time (the suite is serialized and walks the help once), so
/// that in-process API servers of tests running beside these keep answering.
@Suite(.serialized) struct CommandSweepTests {
    /// A command's words after `consort`, and its help text.
    struct Command: Sendable {
        let path: [String]
        let help: String
        var name: String { (["consort"] + path).joined(separator: " ") }
    }

    /// The subcommands a help text lists.
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
        var names: [String] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first, word != "See" else { continue }
            names.append(String(word))
        }
        return names
    }

    /// Every command, found once for the suite's tests.
    static func commands() throws -> [Command] { try discovered.get() }

    private static let discovered = Result { try walkHelp() }

    private static func walkHelp() throws -> [Command] {
        var found: [Command] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            let help = try runCLI(path + ["--help"])
            guard help.status == 0 else { throw HarnessError("consort \(path.joined(separator: " ")) --help exited \(help.status): \(help.error)") }
            found.append(Command(path: path, help: help.output))
            pending += subcommands(help.output).map { path + [$0] }
        }
        return found
    }

    @Test func everyCommandHasHelp_andRefusesAnUnknownOption() async throws {
        let commands = try await offPool { try Self.commands() }
        let leaves = commands.filter { Self.subcommands($0.help).isEmpty }
        #expect(leaves.count >= 60, "found \(leaves.map(\.name))")
        for command in commands {
            #expect(command.help.contains("OVERVIEW:") || command.path.isEmpty, "\(command.name): no overview")
            #expect(command.help.contains("USAGE: \(command.name)"), "\(command.name): usage does not name the command")
        }
        for command in leaves {
            let refused = try await offPool { try runCLI(command.path + ["--no-such-option"]) }
            #expect(refused.status == 2, "\(command.name) --no-such-option exited \(refused.status)")
            #expect(refused.error.contains("Error:") && refused.error.contains("\(command.name) --help"),
                    "\(command.name): the error does not point to the help: \(refused.error)")
        }
    }

    /// What to give for an argument or option, by its name in the usage line.
    static func value(for name: String, files: TemporaryFolder) -> String {
        switch name {
        case "key", "payer-key", "payee-key", "clearing-key": files.path + "/member.key"
        case "file": files.path + "/statement.sta"
        case "state": files.path + "/job.state"
        case "action", "id", "relationship-hash": String(repeating: "ab", count: 32)
        case "piece": "PO-1:1-10"
        case "voucher", "target": "PO-1"
        case "account": "DE89370400440532013000"
        case "currency": "EUR"
        case "issue-date", "date": "2027-01-01"
        case "due-date": "2027-03-01"
        case "amount", "limit", "balance", "rate-bps", "match", "from", "to", "height", "entry": "7"
        case "purpose": "loan_review"
        case "payer", "payee": "bankA:123"
        case "status": "sent"
        case "decision": "maintain"
        default: "x"
        }
    }

    /// What some commands need besides what their usage line shows as required.
    static let extraArguments: [String: [String]] = [
        "consort blacklist add": ["--company", "91350100M000100Y43", "--evidence-hash", String(repeating: "cd", count: 32)],
        "consort blacklist check": ["--company", "91350100M000100Y43"],
        "consort blacklist show": ["--company", "91350100M000100Y43"],
        "consort receivable issue": ["--contract-hash", String(repeating: "ef", count: 32), "--invoice", "INV-1:7:2027-01-01:" + String(repeating: "01", count: 32)],
        "consort statement match": ["--line", "S1/1", "--entry", "E1"],
        "consort statement import": ["--key"],
        "consort clearing job run": ["--key"],
    ]

    /// Each command whose usage line does not show all it needs says so in
    /// its help: every option it needs besides the usage is marked required.
    @Test func whatACommandNeedsBeyondItsUsage_isMarkedRequiredInItsHelp() async throws {
        for (name, extra) in Self.extraArguments {
            let path = Array(name.split(separator: " ").dropFirst().map(String.init))
            let help = try await offPool { try runCLI(path + ["--help"]) }.output
            for option in extra where option.hasPrefix("--") {
                guard let described = Self.optionHelp(option, in: help) else {
                    Issue.record("\(name) --help does not list \(option)")
                    continue
                }
                #expect(described.contains("required") || described.contains("not needed with"), "\(name): \(option) is not marked required: \(described)")
            }
        }
    }

    /// The help text of one option: its line in OPTIONS and the lines that
    /// continue it, up to the next option, flattened to single spaces.
    static func optionHelp(_ option: String, in help: String) -> String? {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.hasPrefix("  \(option) ") || $0 == "  \(option)" }) else { return nil }
        var text = [String(lines[first])]
        for line in lines[(first + 1)...] {
            // Continuation lines are indented deeper than the next option's two spaces.
            guard line.hasPrefix("   ") else { break }
            text.append(String(line))
        }
        return text.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Long-running jobs that keep trying to reach the node rather than exit.
    static let retryingJobs: Set<String> = ["consort clearing job watch"]

    /// The arguments a usage line shows as required, filled in.
    static func requiredArguments(of command: Command, files: TemporaryFolder) -> [String] {
        guard let usageStart = command.help.range(of: "USAGE: ") else { return [] }
        let usage = command.help[usageStart.upperBound...].components(separatedBy: "\n\n")[0]
        var required = usage.replacingOccurrences(of: "\n", with: " ")
        while let open = required.firstIndex(of: "["), let close = required[open...].firstIndex(of: "]") {
            required.removeSubrange(open...close)
        }
        let words = required.split(separator: " ").map(String.init).dropFirst(1 + command.path.count)
        var arguments: [String] = []
        var position = words.startIndex
        while position < words.endIndex {
            let word = words[position]
            if word.hasPrefix("--") {
                arguments.append(word)
                let next = words.index(after: position)
                if next < words.endIndex, words[next].hasPrefix("<") {
                    arguments.append(value(for: String(word.dropFirst(2)), files: files))
                    position = next
                }
            } else if word.hasPrefix("<") {
                arguments.append(value(for: word.trimmingCharacters(in: CharacterSet(charactersIn: "<>.")), files: files))
            }
            position = words.index(after: position)
        }
        var extra = extraArguments[command.name] ?? []
        if extra == ["--key"] { extra.append(value(for: "key", files: files)) }
        if command.name == "consort books import" {
            arguments = arguments.map { $0 == value(for: "file", files: files) ? files.path + "/books.csv" : $0 }
        }
        return arguments + extra
    }

    @Test func everyCommandThatTalksToANode_saysItCannotReachIt_andExits3() async throws {
        let files = try TemporaryFolder()
        let keyPath = files.path + "/member.key"
        #expect(try await offPool { try runCLI(["keys", "generate", "--out", keyPath]) }.status == 0)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ContractsTests/Fixtures/Statements/mt940/plain.sta")
        try FileManager.default.copyItem(atPath: fixtures.path, toPath: files.path + "/statement.sta")
        try Data("entry_id,date,amount,currency\nE1,2027-01-01,10.00,EUR\n".utf8).write(to: URL(fileURLWithPath: files.path + "/books.csv"))
        let absent = "http://127.0.0.1:\(try freeLoopbackPort())"
        let talking = try await offPool { try Self.commands() }.filter { Self.subcommands($0.help).isEmpty && $0.help.contains("--node <node>") }
        #expect(talking.count >= 50)
        for command in talking {
            let arguments = command.path + Self.requiredArguments(of: command, files: files) + ["--node", absent]
            if Self.retryingJobs.contains(command.name) {
                let output = try await offPool { try Self.runBriefly(arguments, seconds: 3) }
                #expect(output.running, "\(command.name) gave up on an absent node: \(output.text)")
                #expect(output.text.contains("cannot reach the node") && output.text.contains("retrying"), "\(command.name): \(output.text)")
                continue
            }
            let result = try await offPool { try runCLI(arguments) }
            #expect(result.status == 3, "\(command.name) \(arguments.dropFirst(command.path.count).joined(separator: " ")) exited \(result.status): \(result.error)")
            #expect(result.error.contains("cannot reach the node") && result.error.contains("--node"), "\(command.name): \(result.error)")
        }
    }

    /// Runs `consort` for `seconds`, then stops it; whether it was still running, and what it wrote.
    private static func runBriefly(_ arguments: [String], seconds: Double) throws -> (running: Bool, text: String) {
        let folder = try TemporaryFolder()
        let outputPath = folder.path + "/output"
        let child = try ChildProcess(try consortExecutable(), arguments, environment: ProcessInfo.processInfo.environment, outputPath: outputPath)
        Thread.sleep(forTimeInterval: seconds)
        let running = child.isRunning
        child.send(SIGKILL)
        child.waitUntilExit()
        return (running, String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data(), as: UTF8.self))
    }
}
