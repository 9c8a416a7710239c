import Ledger
import LedgerCore
import NodeAPI

/// Whether a node is fit to serve, from its status: what `/health/ready`
/// (and `/health`) answer. Liveness (`/health/live`) only says the process
/// answers; readiness also needs the node to be unfaulted, a validator to be
/// connected to a quorum of validators, and the node not to be stuck at a
/// height while others have moved past it.
public struct NodeHealth: Equatable, Sendable {
    /// Each reason the node is not ready, as a sentence; empty when it is.
    public let problems: [String]
    /// The node's height.
    public let height: UInt64
    /// The fault that stopped the node, if one did.
    public let fault: String?

    /// The health of the node whose status is `status`.
    public init(_ status: NodeStatus) {
        var problems: [String] = []
        height = status.head.height
        fault = status.fault
        if let fault = status.fault {
            problems.append("the node has stopped on a fault: \(fault)")
        }
        if status.role == NodeConfig.Role.validator.rawValue {
            let reachable = status.validators.filter { $0.connected || $0.isSelf }.count
            if reachable < status.quorum {
                problems.append("""
                    connected to \(max(reachable - 1, 0)) of the \(max(status.validators.count - 1, 0)) other validators; \
                    committing needs \(status.quorum) validators including this one
                    """)
            }
        }
        if let peers = status.peersHeight, peers > status.head.height, let stalled = status.sinceAdvanceMs, stalled >= NodeTiming.stalledMsMax {
            problems.append("stuck at height \(status.head.height) for \(stalled / 1000) s while other nodes have reached height \(peers)")
        }
        self.problems = problems
    }

    /// True when nothing keeps the node from serving.
    public var isReady: Bool { problems.isEmpty }

    /// The body of a readiness answer: `status` is `ok` or `unhealthy`; an
    /// unhealthy answer carries the problems and the usual error object.
    public var answer: HealthAnswer {
        guard !isReady else { return HealthAnswer(height: height) }
        return HealthAnswer(status: "unhealthy", height: height, problems: problems, fault: fault,
                            error: APIErrorDetail(code: "unhealthy", message: problems.joined(separator: "; ")))
    }
}
