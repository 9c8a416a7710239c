import Foundation
import Ledger
import LedgerCore
import NIOHTTP1
import NodeAPI
import NodeClient
@testable import Bench
import ConsortTesting
import Node

#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later), looked up
/// at run time because the C headers only declare it under `_GNU_SOURCE`.
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }

/// A child process started with `posix_spawn` and reaped with `waitpid`.
///
/// The harness does not use Foundation's `Process`: its `run()` has crashed
/// here while another test held more than a thousand open sockets, and while
/// other test threads started processes. The child gets standard input from
/// `/dev/null`, standard output and error appended to `outputPath` (or to
/// `errorPath` for standard error), and no other descriptor of the test process.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let executable: String
    private let lock = Lock()
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String], outputPath: String, errorPath: String? = nil, append: Bool = true) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, mode, 0o600)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, mode, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw HarnessError("cannot start \(executable): error \(spawned)") }
        self.pid = pid
    }

    /// Reaps the child if it has ended, without blocking.
    private func poll(blocking: Bool) -> Int32? {
        lock.withLock { pollHoldingTheLock(blocking: blocking) }
    }

    private func pollHoldingTheLock(blocking: Bool) -> Int32? {
        if let exitStatus { return exitStatus }
        var waitStatus: Int32 = 0
        while true {
            let reaped = waitpid(pid, &waitStatus, blocking ? 0 : WNOHANG)
            if reaped == pid { break }
            if reaped == 0 { return nil }
            if errno == EINTR { continue }
            exitStatus = -1
            return exitStatus
        }
        let signal = waitStatus & 0x7f
        exitStatus = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    var isRunning: Bool { poll(blocking: false) == nil }

    /// The exit status (128 + signal for a child killed by a signal), once it has ended.
    var terminationStatus: Int32? { poll(blocking: false) }

    /// Sends `signal` unless the child has already been reaped.
    func send(_ signal: Int32) {
        guard isRunning else { return }
        kill(pid, signal)
    }

    /// Blocks until the child ends; returns its exit status.
    @discardableResult
    func waitUntilExit() -> Int32 { poll(blocking: true) ?? -1 }
}

/// Runs `executable` to its end; returns its exit status, standard output and
/// standard error, which go to temporary files, so no read can be cut short by a signal.
func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("consort-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outPath = folder.appendingPathComponent("out").path
    let errPath = folder.appendingPathComponent("err").path
    let child = try ChildProcess(executable.path, arguments, environment: environment, outputPath: outPath, errorPath: errPath, append: false)
    let status = child.waitUntilExit()
    return (status, String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self),
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
}

/// Why a devnet test could not proceed.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The `consort` executable built with the tests.
func consortExecutable() throws -> String {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for configuration in ["debug", "release"] {
        let path = repository.appendingPathComponent(".build/\(configuration)/consort").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw HarnessError("the consort executable is not built; run `swift build` first")
}

/// A consortium of real `consort node start` processes on 127.0.0.1, in a
/// temporary folder, on ports the kernel chose. Everything is stopped and
/// removed by ``shutdown()``.
final class TestDevnet: @unchecked Sendable {
    let directory: String
    let genesis: Genesis
    let organizationKeys: [String: PrivateKey]
    private(set) var apiPorts: [Int] = []
    private var processes: [Int: ChildProcess] = [:]
    private let executable: String
    let validatorCount: Int

    init(validators: Int = 4, viewChangeTimeoutMs: Int = 1000) throws {
        executable = try consortExecutable()
        validatorCount = validators
        directory = NSTemporaryDirectory() + "consort-devnet-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true)
        var keys: [String: PrivateKey] = [:]
        var organizations: [Organization] = []
        for (id, kind) in [("bankA", OrganizationKind.bank), ("bankB", .bank), ("acme", .enterprise), ("reg", .regulator)] {
            let key = try PrivateKey.generate()
            keys[id] = key
            try KeyFile.write(key, to: "\(directory)/keys/\(id).key")
            organizations.append(Organization(id: id, name: id, kind: kind, memberKeys: [key.publicKey]))
        }
        organizationKeys = keys
        var validatorList: [Validator] = []
        var nodeKeys: [PrivateKey] = []
        for index in 0..<validators {
            let key = try PrivateKey.generate()
            nodeKeys.append(key)
            try KeyFile.write(key, to: "\(directory)/keys/node\(index).key")
            validatorList.append(Validator(name: "node\(index)", organizationID: index % 2 == 0 ? "bankA" : "bankB", nodeKey: key.publicKey,
                                           address: "127.0.0.1:\(try freeLoopbackPort())"))
        }
        var parameters = ChainParameters.defaults
        parameters.viewChangeTimeoutMs = viewChangeTimeoutMs
        parameters.blockIntervalMs = 20
        genesis = try Genesis(chainID: "test-devnet", timestampMs: wallClockMs(), organizations: organizations,
                              validators: try ValidatorSet(validatorList), parameters: parameters)
        try genesis.json().write(to: URL(fileURLWithPath: directory + "/genesis.json"))
        for index in 0..<validators {
            let port = try freeLoopbackPort()
            apiPorts.append(port)
            try writeConfig(index: index, role: "validator", apiPort: port, extra: ["nodeKey": "../keys/node\(index).key"])
        }
    }

    private func writeConfig(index: Int, role: String, apiPort: Int, extra: [String: Any]) throws {
        let folder = "\(directory)/node\(index)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var config: [String: Any] = [
            "name": "node\(index)", "role": role, "genesis": "../genesis.json", "dataDir": "data",
            "api": "127.0.0.1:\(apiPort)", "logLevel": ProcessInfo.processInfo.environment["CONSORT_DEVNET_LOG_LEVEL"] ?? "warning",
        ]
        config.merge(extra) { _, new in new }
        try NodeConfig.write(config, to: folder + "/config.json")
    }

    /// Sets the log level in node `index`'s config, before it starts (info logs each committed block).
    func setLogLevel(_ level: String, for index: Int) throws {
        let path = "\(directory)/node\(index)/config.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard var config = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError("node\(index)'s config is not a JSON object")
        }
        config["logLevel"] = level
        try NodeConfig.write(config, to: path)
    }

    /// Adds an observer that follows the validators' APIs; returns its index.
    func addObserver() throws -> Int {
        let index = apiPorts.count
        let port = try freeLoopbackPort()
        apiPorts.append(port)
        try writeConfig(index: index, role: "observer", apiPort: port,
                        extra: ["syncFrom": (0..<validatorCount).map { "http://127.0.0.1:\(apiPorts[$0])" }])
        return index
    }

    func url(_ index: Int) -> String { "http://127.0.0.1:\(apiPorts[index])" }

    func client(_ index: Int) throws -> NodeClient { try NodeClient(baseURL: url(index), timeoutMs: 5_000) }

    /// Starts node `index`; with `descriptorLimit`, under that soft limit on open descriptors.
    func start(_ index: Int, descriptorLimit: Int? = nil) throws {
        let arguments = ["node", "start", "--config", "\(directory)/node\(index)/config.json"]
        var environment = ProcessInfo.processInfo.environment
        environment["CONSORT_STOP_WITH_PARENT"] = String(getpid())
        let log = "\(directory)/node\(index)/node.log"
        if let descriptorLimit {
            processes[index] = try ChildProcess("/bin/sh", ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", executable] + arguments,
                                                environment: environment, outputPath: log)
        } else {
            processes[index] = try ChildProcess(executable, arguments, environment: environment, outputPath: log)
        }
    }

    /// Starts every node and waits until each answers and every validator is
    /// linked to every other, so a test that stops one next starts from a
    /// whole mesh rather than from links still being made.
    func startAll() async throws {
        for index in 0..<apiPorts.count { try start(index) }
        for index in 0..<apiPorts.count { try await waitLive(index) }
        try await waitMeshConnected()
    }

    /// Waits until every validator reports a link to every other validator.
    func waitMeshConnected(timeoutSeconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var missing: [String] = []
        while Date() < deadline {
            missing = []
            for index in 0..<validatorCount {
                guard let status = try? await status(index) else {
                    missing.append("node\(index) does not answer")
                    continue
                }
                let unlinked = status.validators.filter { !$0.isSelf && !$0.connected }.map(\.name)
                if !unlinked.isEmpty { missing.append("node\(index) has no link to \(unlinked.joined(separator: ", "))") }
            }
            if missing.isEmpty { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw HarnessError("validators not all linked after \(timeoutSeconds) s: \(missing.joined(separator: "; "))")
    }

    /// Waits until node `index` answers on `/health/live` (it need not be ready yet).
    func waitLive(_ index: Int, timeoutSeconds: Double = 90) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let process = processes[index], !process.isRunning {
                throw HarnessError("node\(index) exited with status \(process.terminationStatus ?? -1): \(logTail(index))")
            }
            if (try? await client(index).request(.GET, "/health/live"))?.status == 200 { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw HarnessError("node\(index) did not answer in \(timeoutSeconds) s: \(logTail(index))")
    }

    /// Whether node `index`'s process is still running.
    func isRunning(_ index: Int) -> Bool { processes[index]?.isRunning ?? false }

    /// kill -9: no chance to flush or say goodbye.
    func kill9(_ index: Int) {
        guard let process = processes[index], process.isRunning else { return }
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait; returns the exit status, or nil if it had to be killed.
    func terminate(_ index: Int, timeoutSeconds: Double = 15) -> Int32? {
        guard let process = processes[index], process.isRunning else { return nil }
        process.send(SIGTERM)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.send(SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// The highest height node `index` has logged as committed (0 before any).
    func highestLoggedCommit(_ index: Int) -> Int {
        let text = (try? String(contentsOfFile: "\(directory)/node\(index)/node.log", encoding: .utf8)) ?? ""
        var highest = 0
        for line in text.split(separator: "\n") where line.hasSuffix("committed block") {
            guard let range = line.range(of: "height=") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            highest = max(highest, Int(digits) ?? 0)
        }
        return highest
    }

    func logTail(_ index: Int) -> String {
        let text = (try? String(contentsOfFile: "\(directory)/node\(index)/node.log", encoding: .utf8)) ?? ""
        return String(text.suffix(1500))
    }

    /// Stops every process and deletes the folder.
    func shutdown() {
        for (_, process) in processes where process.isRunning {
            process.send(SIGKILL)
            process.waitUntilExit()
        }
        processes.removeAll()
        // CONSORT_KEEP_DEVNET=1 keeps the folder (configs, data, logs) for a look after a failure.
        if ProcessInfo.processInfo.environment["CONSORT_KEEP_DEVNET"] == "1" {
            FileHandle.standardError.write(Data("devnet kept at \(directory)\n".utf8))
            return
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Talking to the nodes

    func status(_ index: Int) async throws -> StatusAnswer {
        try await client(index).status()
    }

    /// The node's height, or -1 while it does not answer.
    func height(_ index: Int) async -> Int {
        guard let status = try? await status(index) else { return -1 }
        return Int(status.height)
    }

    /// A signed governance transaction from `organization` adding a fresh key to itself.
    func addKeyTransaction(_ organization: String, nonce: UInt64) throws -> Transaction {
        guard let key = organizationKeys[organization] else { throw HarnessError("no organization \(organization)") }
        let newKey = try PrivateKey.generate().publicKey
        let call = GovernanceContract.call(.addMemberKey, MemberKeyChange(key: newKey))
        return Transaction.signed(chainID: genesis.chainID, key: key, nonce: nonce, expiresAtMs: wallClockMs() + 600_000, call: call)
    }

    /// Waits until the transaction is committed on node `index`; returns its height.
    func waitCommitted(_ id: Hash, on index: Int, timeoutSeconds: Double = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let committed = (try? await client(index).transaction(id))?.committed {
                return Int(committed.height)
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw HarnessError("transaction \(id.short)… did not commit on node\(index) within \(timeoutSeconds) s: \(logTail(index))")
    }

    /// Waits until every listed node has reached `height`; returns their state roots at their heads.
    func waitAllReach(_ height: Int, nodes: [Int], timeoutSeconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            var reached = true
            for index in nodes where await self.height(index) < height { reached = false }
            if reached { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        var heights: [String] = []
        for index in nodes { heights.append("node\(index)=\(await self.height(index))") }
        throw HarnessError("not every node reached height \(height): \(heights.joined(separator: ", "))")
    }

    /// The block at `height` as node `index` serves it, with its certificate.
    func certifiedBlock(_ height: Int, from index: Int) async throws -> CertifiedBlockRecord {
        let answer = try await client(index).block(at: UInt64(height))
        guard let encoded = answer.encoded, let root = answer.resultingStateRoot else {
            throw HarnessError("block \(height) from node\(index) has no certificate")
        }
        return CertifiedBlockRecord(bytes: encoded.bytes, stateRoot: root)
    }
}

/// A block's canonical bytes with certificate, and the state root after it.
struct CertifiedBlockRecord: Equatable {
    let bytes: [UInt8]
    let stateRoot: Hash
}
