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

    public init() {
        height = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "height", unitName: "", helpText: "Height of the latest committed block"))
        view = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "view", unitName: "", helpText: "Current consensus view"))
        viewChanges = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "view_changes", unitName: "total", helpText: "View changes this node has entered"))
        committedTransactions = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "committed_transactions", unitName: "total", helpText: "Transactions committed with success"))
        rejectedTransactions = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "rejected_transactions", unitName: "total", helpText: "Transactions committed with a rejection"))
        committedBlocks = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "committed_blocks", unitName: "total", helpText: "Blocks committed"))
        mempoolSize = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "mempool_size", unitName: "", helpText: "Transactions waiting in the mempool"))
        connectedPeers = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "connected_peers", unitName: "", helpText: "Authenticated validator connections"))
        commitLatency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "consort", metricName: "commit_latency", unitName: "seconds",
                                             helpText: "Time from admission to commit of transactions admitted by this node"),
            labels: [],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)])
        apiErrors = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "api_errors", unitName: "total", helpText: "API requests answered with an error"))
        lastBlockTime = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "last_block_time", unitName: "seconds", helpText: "Block time of the latest committed block, seconds since 1970"))
        validatorsReached = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "validators_reached", unitName: "", helpText: "Validators this node reaches, itself included"))
        quorum = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "quorum", unitName: "", helpText: "Validators a commit needs"))
        fault = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "fault", unitName: "", helpText: "1 once the node has stopped signing because of a fault"))
        residentMemoryBytes = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "process_resident_memory", unitName: "bytes", helpText: "Resident memory of the node process"))
        openFileDescriptors = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "process_open_fds", unitName: "", helpText: "Open file descriptors of the node process"))
        cpuSeconds = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consort", metricName: "process_cpu", unitName: "seconds", helpText: "CPU time the node process has used, user and system"))
    }

    /// Counts `count` dropped messages by reason (bad signature, stale view,
    /// malformed, …); the label is the reason in snake_case.
    public func dropped(_ reason: String, count: Int = 1) {
        let label = Self.snakeCase(reason)
        let counter = lock.withLock { () -> Counter in
            if let existing = dropCounters[label] { return existing }
            let created = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "consort", metricName: "dropped_messages", unitName: "total",
                                                 helpText: "Peer messages dropped, by reason"),
                labels: [("reason", label)])
            dropCounters[label] = created
            return created
        }
        counter.increment(by: Int64(count))
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
