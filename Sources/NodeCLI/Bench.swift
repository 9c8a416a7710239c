import ArgumentParser
import Foundation
import Ledger
import Node

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure this machine and a running consortium.",
        subcommands: [LedgerBench.self])

    struct LedgerBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger",
            abstract: "Signature verification, transaction execution and synced LevelDB commits on this machine.")

        @Option(name: .long, help: "Transactions in the execution run.")
        var transactions: Int = 20_000

        @Option(name: .long, help: "Transactions per block.")
        var blockSize: Int = 2_000

        func validate() throws {
            guard transactions >= blockSize, blockSize >= 1, blockSize <= Limits.blockTransactionsMax else {
                throw ValidationError("need 1 <= --block-size <= \(Limits.blockTransactionsMax) and --transactions >= --block-size")
            }
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
                } catch let error as CLIError {
                    throw error
                } catch {
                    throw CLIError("benchmark failed: \(error)")
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
