import ArgumentParser
import Contracts
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure this machine and a running consortium.",
        subcommands: [LedgerBench.self, ContractsBench.self, NetworkBench.self])

    struct LedgerBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger",
            abstract: "Signature verification, transaction execution, the state root batched and per key, and synced LevelDB commits on this machine.")

        @Option(name: .long, help: "Transactions in the execution run.")
        var transactions: Int = 20_000

        @Option(name: .long, help: "Transactions per block.")
        var blockSize: Int = 2_000

        func validate() throws {
            guard transactions >= blockSize, blockSize >= 1, blockSize <= Limits.blockTransactionsMax else {
                throw ValidationError("need 1 <= --block-size <= \(Limits.blockTransactionsMax) and --transactions >= --block-size")
            }
            try ArgumentRanges.check(transactions, 1...ArgumentRanges.benchItemsMax, "--transactions")
        }

        func run() async throws {
            try await runReporting {
                warnIfDebugBuild()
                let directory = NSTemporaryDirectory() + "consort-bench-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                do {
                    for figure in try LedgerBenchmark.signatureVerification() { print(figure.line) }
                    for figure in try LedgerBenchmark.pipeline(transactions: transactions, blockSize: blockSize, directory: directory) {
                        print(figure.line)
                    }
                    for figure in try LedgerBenchmark.stateRoot() { print(figure.line) }
                } catch let error as CLIError {
                    throw error
                } catch {
                    throw CLIError("benchmark failed: \(error)")
                }
            }
        }
    }

    struct ContractsBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "contracts",
            abstract: "The contracts' own benchmarks: a trace over 10,000 receivable pieces in 10 tiers, a batch blacklist check "
                + "of 10,000 subjects against 1,000,000 entries, and statement matching of 100,000 lines per side (--statement-lines 1000000 for the full run).")

        @Option(name: .long, help: "Which to run: receivables, blacklist, statements (repeatable; default all).")
        var only: [String] = []

        @Option(name: .long, help: "Blacklist entries on the list.")
        var blacklistEntries: Int = 1_000_000

        @Option(name: .long, help: "Statement lines per side, \(StatementsBenchmark.linesPerSideRange.lowerBound) to \(StatementsBenchmark.linesPerSideRange.upperBound) (about 1 GB of memory per million).")
        var statementLines: Int = 100_000

        func validate() throws {
            let known: Set<String> = ["receivables", "blacklist", "statements"]
            for name in only where !known.contains(name) {
                throw ValidationError("--only \(name): choose receivables, blacklist or statements")
            }
            try ArgumentRanges.check(blacklistEntries, 10_000...ArgumentRanges.benchItemsMax, "--blacklist-entries")
            try ArgumentRanges.check(statementLines, StatementsBenchmark.linesPerSideRange, "--statement-lines")
        }

        func run() async throws {
            try await runReporting {
                warnIfDebugBuild()
                let selected = Set(only.isEmpty ? ["receivables", "blacklist", "statements"] : only)
                do {
                    if selected.contains("receivables") {
                        let figures = try ReceivablesBenchmark.run()
                        print(BenchmarkFigure("receivables: trace from a leaf (\(figures.traceLeafAncestors) ancestors)", figures.traceLeafMs, "ms").line)
                        print(BenchmarkFigure("receivables: trace from a middle tier (\(figures.traceMiddleDescendants) descendants)", figures.traceMiddleMs, "ms").line)
                        print(BenchmarkFigure("receivables: trace from the root (\(figures.traceRootDescendants) descendants)", figures.traceRootMs, "ms").line)
                        print(BenchmarkFigure("receivables: pieces live after building \(figures.tiers) tiers", Double(figures.livePieces), "pieces").line)
                    }
                    if selected.contains("blacklist") {
                        let result = try BlacklistBenchmark(entryCount: blacklistEntries).run()
                        print(BenchmarkFigure("blacklist: \(result.subjectsChecked) subjects checked against \(result.entries) entries", result.checkSeconds, "s").line)
                        print(BenchmarkFigure("blacklist: subjects checked", result.subjectsPerSecond, "/s").line)
                    }
                    if selected.contains("statements") {
                        let result = try StatementsBenchmark.run(linesPerSide: statementLines) { FileHandle.standardError.write(Data("statements: \($0)\n".utf8)) }
                        let target = StatementsBenchmark.targetLinesPerSecond
                        print(BenchmarkFigure("statements: \(result.linesPerSide) lines per side posted, \(result.matched) matched", result.seconds, "s").line)
                        print(BenchmarkFigure("statements: most equal amounts on one day, one side", Double(result.largestAmountDay), "lines").line)
                        print(BenchmarkFigure("statements: state reads per item", result.readsPerItem, "reads").line)
                        print(BenchmarkFigure("statements: state writes per item", result.writesPerItem, "writes").line)
                        let verdict = result.linesMatchedPerSecond >= target ? "met" : "NOT met"
                        print(BenchmarkFigure("statements: lines matched", result.linesMatchedPerSecond,
                                              "/s (target >= \(Int(target)) /s, release build: \(verdict))").line)
                    }
                } catch {
                    throw CLIError("benchmark failed: \(error)")
                }
            }
        }
    }
}

extension BenchCommand {
    /// `consort bench network`: load a running consortium with clearing records and measure it.
    struct NetworkBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "network",
            abstract: "Send signed clearing.post transactions to running nodes and measure committed throughput and commit latency.",
            discussion: """
                Adds --senders fresh keys to the bank of --key (governance.addMemberKey), signs every transaction \
                ahead, counts commits on the first node's block stream, and removes the keys again at the end. \
                Also measures this machine's secp256k1 verifications per second; the signature limit is that / 4, \
                since each transaction is verified once on each of the 4 validators. Sending stops after --duration; \
                the run stops waiting for commits \(NetworkBenchLimits.drainSecondsMax) s later.
                """)

        @Option(name: .customLong("node"), help: "A node's API URL; repeat to spread senders over nodes (default: $CONSORT_NODE or http://127.0.0.1:8080).")
        var nodes: [String] = []

        @Option(name: .long, help: "Key file of a member of a bank.")
        var key: String

        @Option(name: .long, help: "Sender keys to add to the bank, each with its own nonces (1 to \(NetworkBenchLimits.sendersMax)).")
        var senders: Int = 32

        @Option(name: .long, help: "Transactions per second to offer; 0 sends as fast as the nodes admit.")
        var rate: Int = 0

        @Option(name: .long, help: "Seconds of sending (1 to \(NetworkBenchLimits.durationSecondsMax)).")
        var duration: Int = 20

        @Flag(name: .long, help: "Print machine-readable JSON.")
        var json = false

        /// The node URLs given, or the default node.
        var nodeURLs: [String] {
            nodes.isEmpty ? [ProcessInfo.processInfo.environment["CONSORT_NODE"] ?? "http://127.0.0.1:8080"] : nodes
        }

        func settings() throws(LoadRunError) -> NetworkBenchSettings {
            try NetworkBenchSettings(nodes: nodeURLs, senders: senders, ratePerSecond: rate, durationSeconds: duration)
        }

        func validate() throws {
            do {
                _ = try settings()
                _ = try KeyFile.read(key)
            } catch let error as LoadRunError {
                throw ValidationError(error.description)
            } catch let error as ConfigError {
                throw ValidationError("--key \(error.description)")
            }
        }

        func run() async throws {
            try await runReporting {
                warnIfDebugBuild()
                let chosen: NetworkBenchSettings
                do throws(LoadRunError) { chosen = try settings() } catch { throw CLIError(error.description, .badInput) }
                let bankKey = try KeyFile.read(key)
                let report: NetworkBenchReport
                do throws(LoadRunError) {
                    report = try await NetworkBenchmark.run(chosen, bankKey: bankKey) { line in
                        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
                    }
                } catch {
                    throw CLIError.from(error, failing: "benchmark failed")
                }
                if json {
                    try printJSONObject(report.dictionary)
                } else {
                    for figure in report.figures { print(figure.line) }
                }
            }
        }
    }
}

/// Figures from a debug build are not representative; say so.
func warnIfDebugBuild() {
    #if DEBUG
    FileHandle.standardError.write(Data("note: this is a debug build; build with `swift build -c release` for representative figures\n".utf8))
    #endif
}
