import LedgerCore
import Testing
@testable import Node

@Suite struct ConsensusInboxTests {
    private let loud: InboxSource
    private let quiet: InboxSource

    init() throws {
        loud = .peer(try PrivateKey.generate().publicKey)
        quiet = .peer(try PrivateKey.generate().publicKey)
    }

    private func drain(_ inbox: ConsensusInbox<String>, count: Int) async -> [String] {
        var taken: [String] = []
        for _ in 0..<count {
            switch await inbox.next() {
            case .tick: taken.append("tick")
            case .event(let event): taken.append(event)
            case nil: return taken
            }
        }
        return taken
    }

    @Test func aTick_isNeverLost_evenWhenEverySourceIsFull() async {
        let inbox = ConsensusInbox<String>(bytesPerSourceMax: 10)
        #expect(inbox.put("a", bytes: 10, from: loud))
        #expect(!inbox.put("b", bytes: 1, from: loud), "a full source drops its own new input")
        inbox.requestTick()
        inbox.requestTick()
        #expect(await drain(inbox, count: 2) == ["tick", "a"], "one tick, taken first, however often it was asked for")
        inbox.requestTick()
        #expect(await drain(inbox, count: 1) == ["tick"], "a tick asked for after the last was taken comes again")
    }

    @Test func aFloodingPeer_getsItsTurn_andNoMore() async {
        let inbox = ConsensusInbox<String>(bytesPerSourceMax: 100)
        for index in 0..<100 { _ = inbox.put("loud\(index)", bytes: 1, from: loud) }
        #expect(!inbox.put("loud-extra", bytes: 1, from: loud))
        #expect(inbox.put("quiet0", bytes: 1, from: quiet), "another peer's queue is not the flooder's")
        #expect(inbox.put("local0", bytes: 1, from: .local))
        #expect(await drain(inbox, count: 4) == ["loud0", "quiet0", "local0", "loud1"], "sources are served in turn")
        #expect(inbox.queuedBytes(from: loud) == 98)
    }

    @Test func aSingleLargeInput_fitsAnEmptyQueue() async {
        let inbox = ConsensusInbox<String>(bytesPerSourceMax: 10)
        #expect(inbox.put("big", bytes: 50, from: quiet), "one input larger than the budget still passes alone")
        #expect(!inbox.put("next", bytes: 1, from: quiet))
        #expect(await drain(inbox, count: 1) == ["big"])
    }

    @Test func finishing_endsTheLoop_afterWhatIsQueued() async {
        let inbox = ConsensusInbox<String>(bytesPerSourceMax: 10)
        _ = inbox.put("last", bytes: 1, from: .local)
        inbox.finish()
        #expect(!inbox.put("late", bytes: 1, from: .local))
        #expect(await drain(inbox, count: 3) == ["last"])
    }

    @Test func aWaitingLoop_wakesOnInput() async {
        let inbox = ConsensusInbox<String>(bytesPerSourceMax: 10)
        async let taken = drain(inbox, count: 1)
        _ = inbox.put("woken", bytes: 1, from: loud)
        #expect(await taken == ["woken"])
    }
}
