import ArgumentParser
import Dispatch
import Foundation
import Logging
import Bench
import Node
import ReconciliationJob
import NodeClient

#if canImport(Glibc)
import Glibc
#endif

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Run a node.", subcommands: [Start.self, CheckConfig.self])

    /// `consort node check-config`: the checks `node start` makes before it opens anything.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Check a node's config file, its genesis and its node key without starting the node.",
            discussion: """
                Reads and checks everything `node start` checks before it opens the database or binds a port, and creates no \
                file. Prints the node, its listen addresses, the genesis hash and the validators; a key the config or genesis \
                does not have, a value outside the allowed ones, or a node key that is not the genesis's is bad input (exit 2).
                """)

        @Option(name: .long, help: "The node's config file.")
        var config: String

        func run() async throws {
            try await runReporting {
                let checked: CheckedNodeConfig
                do {
                    checked = try CheckedNodeConfig(try NodeConfig.load(config))
                } catch let error as ConfigError {
                    throw CLIError(error.description, .badInput)
                } catch {
                    throw CLIError("\(config): \(error)", .badInput)
                }
                let node = checked.config
                let genesis = checked.genesis
                var listens = "API \(node.apiHost):\(node.apiPort) (also /metrics, /health)"
                var identity = "\(node.name), \(node.role.rawValue)"
                if let index = checked.validatorIndex, let key = checked.nodeKey {
                    listens += ", peers \(node.peerAddress ?? genesis.validators[index].address)"
                    identity += " '\(genesis.validators[index].name)' of \(genesis.validators[index].organizationID), node key \(key.publicKey.short)…"
                }
                let validators = genesis.validators.validators.enumerated().map { index, validator in
                    "\(validator.name) of \(validator.organizationID) at \(validator.address)\(index == checked.validatorIndex ? " (this node)" : "")"
                }
                print("\(config): OK")
                print("  node        \(identity)")
                print("  listens     \(listens)")
                print("  genesis     \(genesis.hash.hex), chain \(genesis.chainID)")
                print("  validators  \(validators.count)")
                for validator in validators { print("              \(validator)") }
                if checked.validatorIndex == nil {
                    print("  follows     \(node.syncFrom.joined(separator: ", "))")
                }
                print("  data        \(node.dataDirectory)")
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a validator or observer node from its config file; stops cleanly on SIGTERM or SIGINT.")

        @Option(name: .long, help: "The node's config file (JSON: name, role, genesis, nodeKey, dataDir, api, p2p, syncFrom, logLevel).")
        var config: String

        @Flag(name: .long, help: """
            Start a validator whose ledger holds blocks without its consensus state (its votes). Only for a validator \
            that has certainly never voted above its ledger's height; otherwise it could sign two blocks at one height.
            """)
        var freshConsensusState = false

        func run() async throws {
            try await runReporting {
                var loaded = try NodeConfig.load(config)
                loaded.freshConsensusState = freshConsensusState
                let nodeConfig = loaded
                var configuredLogger = Logger(label: "consort.\(nodeConfig.name)")
                configuredLogger.logLevel = Logger.Level(rawValue: nodeConfig.logLevel) ?? .info
                let logger = configuredLogger
                let node: ConsortNode
                do {
                    node = try ConsortNode(config: nodeConfig, logger: logger)
                } catch {
                    throw CLIError("\(error)", .badInput)
                }
                let running = Task {
                    try await node.run { port in
                        logger.info("API listening", metadata: ["url": "http://\(nodeConfig.apiHost):\(port)"])
                    }
                }
                let signals = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
                    source.setEventHandler {
                        logger.info("stopping on signal", metadata: ["signal": "\(number)"])
                        running.cancel()
                    }
                    source.resume()
                    return source
                }
                defer { signals.forEach { $0.cancel() } }
                // Test harnesses set CONSORT_STOP_WITH_PARENT to their pid, so nodes never outlive a crashed test run.
                if let text = ProcessInfo.processInfo.environment["CONSORT_STOP_WITH_PARENT"], let parent = pid_t(text), parent > 1 {
                    Task {
                        while !Task.isCancelled {
                            if kill(parent, 0) != 0 && errno == ESRCH {
                                logger.warning("the process that started this node is gone; stopping")
                                running.cancel()
                                return
                            }
                            try? await Task.sleep(nanoseconds: 500_000_000)
                        }
                    }
                }
                do {
                    try await running.value
                } catch is CancellationError {
                    return
                } catch let error as ListenerError {
                    throw CLIError(error.description)
                } catch {
                    throw CLIError("node stopped: \(error)")
                }
            }
        }
    }
}
