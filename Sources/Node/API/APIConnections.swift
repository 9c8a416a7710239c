import Hummingbird
import HummingbirdCore
import NIOHTTPTypes
import Ledger
import NIOCore
import NodeAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many API connections the node takes: what the process's descriptor
/// limit leaves once the stores, the peer links and some headroom have
/// theirs, within ``APILimits/connectionsMin`` and ``APILimits/connectionsMax``.
/// Connections beyond it wait in the listen backlog instead of taking a
/// descriptor, so a flood of idle sockets cannot starve the node.
public enum APIConnectionBudget {
    /// Descriptors kept for everything but the API: two LevelDB stores, the peer links, and headroom.
    public static func reservedDescriptors(validators: Int) -> Int {
        2 * Int(LevelDBOptions().openFilesMax) + 2 * validators + PeerLimits.unauthenticatedMax + 64
    }

    /// The API connections to allow under a descriptor limit of `descriptorLimit`.
    public static func connections(descriptorLimit: Int, validators: Int) -> Int {
        let left = descriptorLimit - reservedDescriptors(validators: validators)
        return min(APILimits.connectionsMax, max(APILimits.connectionsMin, left))
    }

    /// The process's soft limit on open descriptors, if it can be read.
    public static func processDescriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return limit.rlim_cur >= rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }
}

/// Closes a connection whose request has not arrived whole within
/// `timeoutMs` of its head: a body that trickles in would otherwise hold the
/// connection for as long as its sender likes.
final class RequestReadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeoutMs: Int
    private var deadline: Scheduled<Void>?

    init(timeoutMs: Int) { self.timeoutMs = timeoutMs }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
                channel.close(promise: nil)
            }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }
}
