import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// Measures the penetration trace on a large voucher: one voucher is split
/// into `pieces` live pieces passed down `tiers` supplier tiers on a
/// ``LocalConsortium``, then the `trace` query is timed from the root (every
/// descendant), from a piece in the middle tier, and from a leaf at the
/// deepest tier (its ancestors only). The trace reads the ancestor chain by
/// point lookups and the descendants by one range scan over the voucher's
/// unit numbers, so its cost follows the size of the answer, not the state:
/// the leaf trace should take a tiny fraction of the root trace.
public enum ReceivablesBenchmark {
    /// What a run measured. Times are the median of the repetitions.
    public struct Figures: Equatable, Sendable {
        public var livePieces: Int
        public var pieceRecords: Int
        public var tiers: Int
        public var blocks: Int
        public var buildSeconds: Double
        public var traceRootMs: Double
        public var traceRootDescendants: Int
        public var traceMiddleMs: Double
        public var traceMiddleDescendants: Int
        public var traceLeafMs: Double
        public var traceLeafAncestors: Int

        /// The figures by name, for `consort bench` output.
        public var dictionary: [String: Double] {
            [
                "receivables.livePieces": Double(livePieces),
                "receivables.pieceRecords": Double(pieceRecords),
                "receivables.tiers": Double(tiers),
                "receivables.blocks": Double(blocks),
                "receivables.buildSeconds": buildSeconds,
                "receivables.traceRootMs": traceRootMs,
                "receivables.traceRootDescendants": Double(traceRootDescendants),
                "receivables.traceMiddleMs": traceMiddleMs,
                "receivables.traceMiddleDescendants": Double(traceMiddleDescendants),
                "receivables.traceLeafMs": traceLeafMs,
                "receivables.traceLeafAncestors": Double(traceLeafAncestors),
            ]
        }
    }

    /// Why the benchmark could not run.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Builds the voucher and times the traces.
    ///
    /// - Parameters:
    ///   - pieces: live pieces to create (at least 2).
    ///   - tiers: supplier tiers, tier 0 being the voucher's first holder (2…64).
    ///   - transactionsPerBlock: transfers committed per block while building.
    ///   - repetitions: timed runs of each trace.
    ///   - store: the ledger's store; the default keeps everything in memory.
    ///     (`MemoryStore` sorts its keys on the first scan after a write; a
    ///     warm-up trace runs before timing, so that sort is not counted.)
    public static func run(pieces: Int = 10_000, tiers: Int = 10, transactionsPerBlock: Int = 1_000, repetitions: Int = 5,
                           store: any KeyValueStore = MemoryStore()) throws -> Figures {
        guard pieces >= 2, (2...64).contains(tiers), transactionsPerBlock >= 1, repetitions >= 1 else {
            throw Failure(description: "need pieces >= 2, tiers 2...64, transactionsPerBlock >= 1, repetitions >= 1")
        }
        let splits = pieces - 1
        // Smallest fan-out per piece and tier that reaches `pieces` within `tiers` tiers.
        var fanOut = 1
        while reach(fanOut: fanOut, tiers: tiers) < splits { fanOut += 1 }
        var face: UInt64 = 100
        for _ in 0..<(tiers - 1) {
            let (product, overflow) = face.multipliedReportingOverflow(by: UInt64(fanOut + 1))
            guard !overflow, product <= ReceivablesLimits.amountMax else { break }
            face = product
        }
        let tierNames = (0..<tiers).map { "tier\($0)" }
        let clock = ContinuousClock()
        let started = clock.now
        let chain = try LocalConsortium(
            chainID: "receivables-bench",
            organizations: [("bank", .bank), ("issuer", .coreEnterprise)] + tierNames.map { ($0, OrganizationKind.enterprise) },
            keysPerOrganization: 1,
            contracts: [ReceivablesContract.name: .object([
                "minimumSplitAmount": .integer(1),
                "pieceRecordsPerVoucherMax": .integer(Int64(min(150_000, 2 * pieces + 1))),
            ])],
            registry: ContractRegistry(contracts: [GovernanceContract(), ReceivablesContract()], directory: GovernanceContract()),
            store: store)
        var blocks = 0
        func commit(_ transactions: [Transaction]) throws {
            for chunk in stride(from: 0, to: transactions.count, by: transactionsPerBlock) {
                let receipts = try chain.commit(Array(transactions[chunk..<min(chunk + transactionsPerBlock, transactions.count)]))
                blocks += 1
                if let failed = receipts.first(where: { !$0.isSuccess }) {
                    throw Failure(description: "a setup transaction was rejected: \(String(describing: failed.rejection))")
                }
            }
        }
        let today = ReceivableDay(timestampMs: chain.nextBlockTimeMs)
        let voucherID = "BENCH-1"
        let issue = ReceivableIssue(
            voucherID: voucherID, supplier: tierNames[0], creditBank: "bank", amount: face, currency: "CNY", issueDate: today,
            dueDate: today.addingMonths(6), contractHash: Hash.sha256(Array("bench-contract".utf8)),
            invoices: [ReceivableInvoice(number: "BENCH-INV-1", amount: face, date: today, documentHash: Hash.sha256(Array("bench-invoice".utf8)))])
        var setup = [
            chain.transaction("bank", ReceivablesContract.call(.setCreditLine, ReceivableCreditLine(issuer: "issuer", currency: "CNY", limit: face))),
            chain.transaction("issuer", ReceivablesContract.call(.issue, issue)),
            chain.transaction(tierNames[0], ReceivablesContract.call(.acceptVoucher, ReceivableVoucherRef(voucherID: voucherID))),
        ]
        for name in tierNames.dropFirst() {
            setup.append(chain.transaction(name, ReceivablesContract.call(.configure, ReceivableSettings(autoAcceptTransfers: true))))
        }
        try commit(setup)

        // Tier by tier, each piece passes `fanOut` equal shares down and keeps the rest.
        var frontier = [ReceivablePieceID(voucherID: voucherID, first: 1, last: face)]
        var remaining = splits
        var middle: ReceivablePieceID?
        var leaf = frontier[0]
        var transfers: [Transaction] = []
        for tier in 0..<(tiers - 1) where remaining > 0 {
            var next: [ReceivablePieceID] = []
            for piece in frontier where remaining > 0 {
                let share = piece.amount / UInt64(fanOut + 1)
                guard share >= 1 else { throw Failure(description: "the face amount is too small for \(pieces) pieces in \(tiers) tiers") }
                var current = piece
                for _ in 0..<fanOut where remaining > 0 {
                    transfers.append(chain.transaction(tierNames[tier], ReceivablesContract.call(
                        .offerTransfer, ReceivableTransfer(piece: current, amount: share, recipient: tierNames[tier + 1]))))
                    let moved = ReceivablePieceID(voucherID: voucherID, first: current.first, last: current.first + share - 1)
                    next.append(moved)
                    current = ReceivablePieceID(voucherID: voucherID, first: current.first + share, last: current.last)
                    remaining -= 1
                }
            }
            if tier + 1 == tiers / 2 { middle = next.first }
            if let last = next.last { leaf = last }
            frontier = next
        }
        try commit(transfers)
        let buildSeconds = (clock.now - started).inSeconds

        let view = chain.ledger.queryView()
        let contract = ReceivablesContract()
        func timeTrace(_ piece: ReceivablePieceID) throws -> (ms: Double, answer: JSONValue) {
            var answer = try contract.query("trace", parameters: ["piece": piece.description], in: view)
            var times: [Double] = []
            for _ in 0..<repetitions {
                let start = clock.now
                answer = try contract.query("trace", parameters: ["piece": piece.description], in: view)
                times.append((clock.now - start).inSeconds * 1000)
            }
            return (times.sorted()[times.count / 2], answer)
        }
        let root = try timeTrace(ReceivablePieceID(voucherID: voucherID, first: 1, last: face))
        let middleTrace = try timeTrace(middle ?? leaf)
        let leafTrace = try timeTrace(leaf)
        let voucher = try read(try contract.query("voucher", parameters: ["voucher": voucherID], in: view), as: ReceivableVoucherAnswer.self)
        return Figures(
            livePieces: pieces, pieceRecords: Int(voucher.pieceRecords), tiers: tiers, blocks: blocks,
            buildSeconds: buildSeconds,
            traceRootMs: root.ms, traceRootDescendants: try read(root.answer, as: ReceivableTraceAnswer.self).descendants.count,
            traceMiddleMs: middleTrace.ms, traceMiddleDescendants: try read(middleTrace.answer, as: ReceivableTraceAnswer.self).descendants.count,
            traceLeafMs: leafTrace.ms, traceLeafAncestors: try read(leafTrace.answer, as: ReceivableTraceAnswer.self).ancestors.count)
    }

    /// Reads a query's answer as its typed form, as a client would.
    static func read<Answer: Decodable>(_ answer: JSONValue, as type: Answer.Type) throws(Failure) -> Answer {
        do {
            return try answer.decode(type)
        } catch {
            throw Failure(description: "a receivables answer does not read as \(Answer.self): \(error)")
        }
    }

    /// Splits reachable with `fanOut` shares per piece per tier: fanOut + fanOut² + … over `tiers − 1` tiers.
    static func reach(fanOut: Int, tiers: Int) -> Int {
        var total = 0
        var level = 1
        for _ in 0..<(tiers - 1) {
            level = level.multipliedReportingOverflow(by: fanOut).overflow ? Int.max / 2 : level * fanOut
            total = total.addingReportingOverflow(level).overflow ? Int.max / 2 : total + level
            if total >= Int.max / 4 { break }
        }
        return total
    }
}
