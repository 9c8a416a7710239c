import Foundation
import LedgerCore
import Prometheus

/// The node's Prometheus metrics.
public final class NodeMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let height: Gauge
    public let view: Gauge
    public let viewChanges: Counter
    public let committedTransactions: Counter
    public let rejectedTransactions: Counter
    public let committedBlocks: Counter
    public let mempoolSize: Gauge
    /// How long the transactions committed lately waited in the pool, on average (``AdmissionBacklog``).
    public let poolWait: Gauge
    public let connectedPeers: Gauge
    public let commitLatency: DurationHistogram
    public let apiErrors: Counter
    /// The committed head's block time, in seconds since 1970: alert on `time() -` this.
    public let lastBlockTime: Gauge
    /// Validators this node reaches: itself (when it is one) and its authenticated validator peers.
    public let validatorsReached: Gauge
    /// The validators a commit needs; fewer reached means no block can commit.
    public let quorum: Gauge
    /// 1 once the node has stopped signing because of a fault (the status says which), else 0.
    public let fault: Gauge
    /// The process's resident memory, open file descriptors and CPU time, read at each scrape (Linux).
    public let residentMemoryBytes: Gauge
    public let openFileDescriptors: Gauge
    public let cpuSeconds: Gauge
    private let lock = Lock()
    private var dropCounters: [String: Counter] = [:]
    private var transactionCounters: [TransactionLabels: Counter] = [:]
    private var routeHistograms: [RouteLabels: DurationHistogram] = [:]

    /// The most label sets ``committed(contract:operation:result:)`` keeps;
    /// beyond it every further set counts under `other`, so that no input can
    /// grow the registry without bound.
    public static let transactionLabelSetsMax = 1_024
    /// The most (route, status class) pairs the API latency histogram keeps; beyond it they count under `other`.
    public static let routeLabelSetsMax = 256
    /// The version of this build, as `consort_build_info` and `consort --version` give it.
    public static let version = "0.3.0"

    /// One label set of `consort_transactions_total`.
    private struct TransactionLabels: Hashable {
        var contract: String
        var operation: String
        var result: String
    }

    /// One label set of `consort_api_request_duration_seconds`.
    private struct RouteLabels: Hashable {
        var route: String
        var status: String
    }

    public init() {
        height = registry.makeGauge(descriptor: Self.named("height", unit: "", "Height of the latest committed block"))
        view = registry.makeGauge(descriptor: Self.named("view", unit: "", "Current consensus view"))
        viewChanges = registry.makeCounter(descriptor: Self.named("view_changes", unit: "total", "View changes this node has entered"))
        committedTransactions = registry.makeCounter(descriptor: Self.named("committed_transactions", unit: "total", "Transactions committed with success"))
        rejectedTransactions = registry.makeCounter(descriptor: Self.named("rejected_transactions", unit: "total", "Transactions committed with a rejection"))
        committedBlocks = registry.makeCounter(descriptor: Self.named("committed_blocks", unit: "total", "Blocks committed"))
        mempoolSize = registry.makeGauge(descriptor: Self.named("mempool_size", unit: "", "Transactions waiting in the mempool"))
        poolWait = registry.makeGauge(descriptor: Self.named("pool_wait", unit: "seconds",
                                                             "Average time the transactions committed in the last seconds waited in the mempool"))
        connectedPeers = registry.makeGauge(descriptor: Self.named("connected_peers", unit: "", "Authenticated validator connections"))
        commitLatency = registry.makeDurationHistogram(
            descriptor: Self.named("commit_latency", unit: "seconds", "Time from admission to commit of transactions admitted by this node"),
            labels: [],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)])
        apiErrors = registry.makeCounter(descriptor: Self.named("api_errors", unit: "total", "API requests answered with an error"))
        lastBlockTime = registry.makeGauge(descriptor: Self.named("last_block_time", unit: "seconds", "Block time of the latest committed block, seconds since 1970"))
        validatorsReached = registry.makeGauge(descriptor: Self.named("validators_reached", unit: "", "Validators this node reaches, itself included"))
        quorum = registry.makeGauge(descriptor: Self.named("quorum", unit: "", "Validators a commit needs"))
        fault = registry.makeGauge(descriptor: Self.named("fault", unit: "", "1 once the node has stopped signing because of a fault"))
        residentMemoryBytes = registry.makeGauge(descriptor: Self.named("process_resident_memory", unit: "bytes", "Resident memory of the node process"))
        openFileDescriptors = registry.makeGauge(descriptor: Self.named("process_open_fds", unit: "", "Open file descriptors of the node process"))
        cpuSeconds = registry.makeGauge(descriptor: Self.named("process_cpu", unit: "seconds", "CPU time the node process has used, user and system"))
        registry.makeGauge(descriptor: Self.named("build_info", unit: "", "1, labelled with the version this node runs and the peer protocol it speaks"),
                           labels: [("version", Self.version), ("protocol", String(PeerLimits.protocolVersion))]).set(Double(1))
    }

    /// Counts committed transactions of `contract`'s `operation` by result:
    /// `success` or the rejection code. Callers pass `unknown` for a contract
    /// or operation the chain does not define, so labels come from code, not input.
    public func committed(contract: String, operation: String, result: String, count: Int = 1) {
        let wanted = TransactionLabels(contract: contract, operation: operation, result: Self.snakeCase(result))
        let counter = lock.withLock { () -> Counter in
            let labels = transactionCounters[wanted] != nil || transactionCounters.count < Self.transactionLabelSetsMax
                ? wanted : TransactionLabels(contract: "other", operation: "other", result: "other")
            if let existing = transactionCounters[labels] { return existing }
            let created = registry.makeCounter(
                descriptor: Self.named("transactions", unit: "total", "Committed transactions by contract, operation and result (success or the rejection code)"),
                labels: [("contract", labels.contract), ("operation", labels.operation), ("result", labels.result)])
            transactionCounters[labels] = created
            return created
        }
        counter.increment(by: Int64(count))
    }

    /// Records how long the API took to answer a request of `route` (the
    /// matched route pattern, or `unmatched`) with `statusCode`.
    public func answered(route: String, statusCode: Int, nanoseconds: Int64) {
        let wanted = RouteLabels(route: route, status: "\(statusCode / 100)xx")
        let histogram = lock.withLock { () -> DurationHistogram in
            let labels = routeHistograms[wanted] != nil || routeHistograms.count < Self.routeLabelSetsMax
                ? wanted : RouteLabels(route: "other", status: wanted.status)
            if let existing = routeHistograms[labels] { return existing }
            let created = registry.makeDurationHistogram(
                descriptor: Self.named("api_request_duration", unit: "seconds", "Time the API took to answer, by route pattern and status class"),
                labels: [("route", labels.route), ("status", labels.status)],
                buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                          .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)])
            routeHistograms[labels] = created
            return created
        }
        histogram.recordNanoseconds(nanoseconds)
    }

    /// Counts `count` dropped messages by reason (bad signature, stale view,
    /// malformed, …); the label is the reason in snake_case.
    public func dropped(_ reason: String, count: Int = 1) {
        let label = Self.snakeCase(reason)
        let counter = lock.withLock { () -> Counter in
            if let existing = dropCounters[label] { return existing }
            let created = registry.makeCounter(
                descriptor: Self.named("dropped_messages", unit: "total", "Peer messages dropped, by reason"),
                labels: [("reason", label)])
            dropCounters[label] = created
            return created
        }
        counter.increment(by: Int64(count))
    }

    /// The descriptor of `consort_<name>[_<unit>]`.
    private static func named(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "consort", metricName: name, unitName: unit, helpText: help)
    }

    /// `staleCheckpoint` → `stale_checkpoint`; snake_case text stays as it is.
    static func snakeCase(_ text: String) -> String {
        var result = ""
        for character in text {
            if character.isUppercase {
                if !result.isEmpty { result.append("_") }
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The metrics in Prometheus text format, with the process figures read now.
    public func exposition() -> String {
        sampleProcess()
        return registry.emitToString()
    }

    /// Reads the process's memory, descriptors and CPU time from `/proc/self`;
    /// where there is no `/proc` (not Linux) the gauges stay as they are.
    private func sampleProcess() {
        if let statm = Self.procText("/proc/self/statm"), let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            residentMemoryBytes.set(pages * Double(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.set(Double(names.count))
        }
        // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
        if let stat = Self.procText("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticks > 0 {
                cpuSeconds.set((user + system) / ticks)
            }
        }
    }

    private static func procText(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}
