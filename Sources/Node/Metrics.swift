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
    }

    /// Counts a dropped message by reason (bad signature, stale view, malformed, …).
    public func dropped(_ reason: String) {
        let counter = lock.withLock { () -> Counter in
            if let existing = dropCounters[reason] { return existing }
            let created = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "consort", metricName: "dropped_messages", unitName: "total",
                                                 helpText: "Peer messages dropped, by reason"),
                labels: [("reason", reason)])
            dropCounters[reason] = created
            return created
        }
        counter.increment()
    }

    /// The metrics in Prometheus text format.
    public func exposition() -> String { registry.emitToString() }
}
