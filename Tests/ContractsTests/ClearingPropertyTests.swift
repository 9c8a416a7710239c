import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// A random stream of committed clearing records with injected breaks, and
/// the breaks that the injections must (and alone may) produce.
struct InjectedStream {
    enum Injection: CaseIterable {
        case dropPayer, dropPayee, dropClearing
        case alterAmount, alterCurrency, correctAmount
        case delayClearing, delayPayee
        case duplicate, resubmit
        case lateSettlement, returnUnmatched, returnLateMatched
    }

    /// Retention is short so that matched payments are dropped while the stream runs.
    static let configuration = ReconciliationConfiguration(graceMs: 5000, inTransitThresholdMs: 60_000, duplicateWindowMs: 600_000, retentionMs: 30_000)

    var blocks: [ClearingBlock] = []
    var expectedFindings: Set<String> = []
    var expectedResolutions: Set<String> = []
    var injected: [Injection: Int] = [:]
    var paymentIDs: Set<String> = []

    private struct Scheduled {
        var timeMs: UInt64
        var sequence: Int
        var change: ClearingRecordChange
    }

    private struct Payment {
        var id: String
        var payer: AccountRef
        var payee: AccountRef
        var amount: UInt64
        var currency: String
        var timestampMs: UInt64
    }

    /// Timing assumptions (grace 5 s, blocks 0.5–1.5 s apart): sides of a
    /// normal payment are committed within 3.5 s of each other, so never
    /// flagged; a delayed side comes at least 12 s late, so its break is
    /// reported before it arrives.
    init(seed: UInt64, payments count: Int) {
        var random = SplitMix64(seed: seed)
        var schedule: [Scheduled] = []
        var versions: [String: UInt32] = [:]
        let banks = ["bankA", "bankB", "bankC"]

        func emit(_ time: UInt64, _ payment: Payment, _ side: ClearingSide, _ status: PaymentStatus,
                  amount: UInt64? = nil, currency: String? = nil, version fixed: UInt32? = nil) {
            let versionKey = "\(payment.id)/\(side.rawValue)"
            let version = fixed ?? ((versions[versionKey] ?? 0) + 1)
            if fixed == nil { versions[versionKey] = version }
            let poster = side == .payer ? payment.payer.institution : side == .payee ? payment.payee.institution : "cch"
            let change = ClearingRecordChange(
                paymentID: payment.id, side: side, postedBy: poster, payer: payment.payer, payee: payment.payee,
                amountMinor: amount ?? payment.amount, currency: currency ?? payment.currency, participantTimestampMs: payment.timestampMs,
                channel: "IBPS", status: status, version: version)
            schedule.append(Scheduled(timeMs: time, sequence: schedule.count, change: change))
            paymentIDs.insert(payment.id)
        }
        func expect(_ id: String, _ kind: BreakKind, _ side: ClearingSide, resolved: Bool) {
            expectedFindings.insert("\(id) \(kind.rawValue) \(side.rawValue)")
            if resolved { expectedResolutions.insert("\(id) \(kind.rawValue) \(side.rawValue)") }
        }

        for index in 0..<count {
            let payerIndex = Int(random.next() % 3)
            let t0 = 1000 + random.next() % 120_000
            let payment = Payment(
                id: "P\(index)", payer: AccountRef(institution: banks[payerIndex], account: "acct-\(index)-p"),
                payee: AccountRef(institution: banks[(payerIndex + 1 + Int(random.next() % 2)) % 3], account: "acct-\(index)-q"),
                amount: 1 + random.next() % 1_000_000, currency: random.next() % 4 == 0 ? "USD" : "CNY", timestampMs: t0)
            let d1 = random.next() % 2000
            let d2 = random.next() % 2000
            let late = 12_000 + random.next() % 8000
            let injection: Injection? = random.next() % 10 < 3 ? Injection.allCases[Int(random.next() % UInt64(Injection.allCases.count))] : nil
            if let injection { injected[injection, default: 0] += 1 }
            let alteredSide: ClearingSide = random.next() % 2 == 0 ? .payer : .payee
            let bankSuccess: [ClearingSide: PaymentStatus] = [.payer: .sent, .payee: .received]

            switch injection {
            case nil:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + d2, payment, .payee, .received)
                if random.next() % 2 == 0 { emit(t0 + d1 + random.next() % 1000, payment, .payer, .settled) }
            case .dropPayer:
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + d2, payment, .payee, .received)
                expect(payment.id, .long, .payer, resolved: false)
            case .dropPayee:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                expect(payment.id, .long, .payee, resolved: false)
            case .dropClearing:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d2, payment, .payee, .received)
                expect(payment.id, .short, .payer, resolved: false)
                expect(payment.id, .short, .payee, resolved: false)
            case .alterAmount, .correctAmount:
                emit(t0 + d1, payment, .clearing, .settled)
                let other: ClearingSide = alteredSide == .payer ? .payee : .payer
                emit(other == .payer ? t0 : t0 + d2, payment, other, bankSuccess[other] ?? .sent)
                emit(t0 + d2, payment, alteredSide, bankSuccess[alteredSide] ?? .sent, amount: payment.amount + 1 + random.next() % 999)
                let fixed = injection == .correctAmount
                if fixed { emit(t0 + 5000 + random.next() % 5000, payment, alteredSide, .settled) }
                expect(payment.id, .amountMismatch, alteredSide, resolved: fixed)
            case .alterCurrency:
                emit(t0 + d1, payment, .clearing, .settled)
                let other: ClearingSide = alteredSide == .payer ? .payee : .payer
                emit(other == .payer ? t0 : t0 + d2, payment, other, bankSuccess[other] ?? .sent)
                emit(t0 + d2, payment, alteredSide, bankSuccess[alteredSide] ?? .sent, currency: payment.currency == "CNY" ? "HKD" : "EUR")
                expect(payment.id, .currencyMismatch, alteredSide, resolved: false)
            case .delayClearing:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d2, payment, .payee, .received)
                emit(t0 + late, payment, .clearing, .settled)
                expect(payment.id, .short, .payer, resolved: true)
                expect(payment.id, .short, .payee, resolved: true)
            case .delayPayee:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + late, payment, .payee, .received)
                expect(payment.id, .long, .payee, resolved: true)
            case .duplicate:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + d2, payment, .payee, .received)
                var copy = payment
                copy.id = payment.id + "-dup"
                emit(t0 + 1 + random.next() % 2000, copy, .payer, .sent)
                expect(copy.id, .duplicate, .payer, resolved: false)
            case .resubmit:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + d2, payment, .payee, .received)
                emit(t0 + 3000 + random.next() % 3000, payment, .payer, .sent, version: 1)
            case .lateSettlement:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .sent)
                emit(t0 + d2, payment, .payee, .received)
                emit(t0 + 66_000 + random.next() % 14_000, payment, .clearing, .settled)
                expect(payment.id, .inTransit, .clearing, resolved: true)
            case .returnUnmatched, .returnLateMatched:
                emit(t0, payment, .payer, .sent)
                emit(t0 + d1, payment, .clearing, .settled)
                emit(t0 + d2, payment, .payee, .received)
                emit(t0 + 10_000, payment, .clearing, .returned)
                emit(t0 + 10_000 + random.next() % 1000, payment, .payer, .returned)
                let matched = injection == .returnLateMatched
                if matched { emit(t0 + 20_000 + random.next() % 10_000, payment, .payee, .returned) }
                expect(payment.id, .statusMismatch, .payee, resolved: matched)
            }
        }

        schedule.sort { ($0.timeMs, $0.sequence) < ($1.timeMs, $1.sequence) }
        let endMs = (schedule.last?.timeMs ?? 0) + 100_000
        var timeMs: UInt64 = 1000
        var next = 0
        var height: UInt64 = 0
        while timeMs <= endMs {
            height += 1
            var changes: [ClearingRecordChange] = []
            while next < schedule.count && schedule[next].timeMs <= timeMs {
                changes.append(schedule[next].change)
                next += 1
            }
            blocks.append(ClearingBlock(height: height, timeMs: timeMs, changes: changes))
            timeMs += 500 + random.next() % 1001
        }
    }
}

private func label(_ key: FindingKey) -> String { "\(key.paymentID) \(key.kind.rawValue) \(key.side.rawValue)" }

@Suite struct ReconciliationPropertyTests {
    @Test func injectedBreaks_areFoundExactly_noMoreNoFewer() throws {
        for seed in clearingSeeds(count: 25, base: 0x5EED_0001) {
            let stream = InjectedStream(seed: seed, payments: 200)
            #expect(!stream.expectedFindings.isEmpty && !stream.expectedResolutions.isEmpty, "seed \(seed): nothing injected")
            var engine = ReconciliationEngine(configuration: InjectedStream.configuration)
            var found: [String] = []
            var resolved: [String] = []
            for block in stream.blocks {
                let output = try engine.process(block)
                found += output.findings.map { label($0.key) }
                resolved += output.resolutions.map { label($0.key) }
                for finding in output.findings {
                    #expect(finding.dueAtMs <= finding.exposedAtMs && finding.exposedAtMs == block.timeMs, "seed \(seed)")
                }
            }
            #expect(engine.trackedPayments < stream.paymentIDs.count, "seed \(seed): no matched payment was dropped")
            #expect(found.count == Set(found).count, "seed \(seed): a break was reported twice")
            #expect(resolved.count == Set(resolved).count, "seed \(seed): a break was resolved twice")
            let unexpected = Set(found).subtracting(stream.expectedFindings).sorted()
            let missed = stream.expectedFindings.subtracting(found).sorted()
            #expect(unexpected.isEmpty && missed.isEmpty, "seed \(seed): unexpected \(unexpected), missed \(missed)")
            let unexpectedResolutions = Set(resolved).subtracting(stream.expectedResolutions).sorted()
            let missedResolutions = stream.expectedResolutions.subtracting(resolved).sorted()
            #expect(unexpectedResolutions.isEmpty && missedResolutions.isEmpty,
                    "seed \(seed): unexpected resolutions \(unexpectedResolutions), missed \(missedResolutions)")
        }
    }

    @Test func generator_injectsEveryKindOfBreak() {
        var injected: [InjectedStream.Injection: Int] = [:]
        for seed in clearingSeeds(count: 25, base: 0x5EED_0001) {
            injected.merge(InjectedStream(seed: seed, payments: 200).injected, uniquingKeysWith: +)
        }
        for injection in InjectedStream.Injection.allCases {
            #expect((injected[injection] ?? 0) > 0, "no \(injection) injected")
        }
    }

    /// A job killed at random points restarts from its last saved state and
    /// cursor (which may be several blocks old), sometimes has its last block
    /// fed again, and still emits, height by height, exactly what a job that
    /// never stopped emits.
    @Test func restartedEngine_emitsExactlyWhatAnUninterruptedOneEmits() throws {
        for seed in clearingSeeds(count: 6, base: 0xDEAD_0001) {
            let stream = InjectedStream(seed: seed, payments: 100)
            #expect(!stream.expectedFindings.isEmpty && !stream.expectedResolutions.isEmpty, "seed \(seed): nothing injected")
            var uninterrupted = ReconciliationEngine(configuration: InjectedStream.configuration)
            var expected: [UInt64: ReconciliationOutput] = [:]
            for block in stream.blocks { expected[block.height] = try uninterrupted.process(block) }

            var random = SplitMix64(seed: seed ^ 0xA5A5)
            var engine = ReconciliationEngine(configuration: InjectedStream.configuration)
            var saved = engine.canonicalBytes
            var emitted: [UInt64: ReconciliationOutput] = [:]
            var kills = 0
            var index = 0
            while index < stream.blocks.count {
                let block = stream.blocks[index]
                let output = try engine.process(block)
                if let earlier = emitted[block.height] {
                    #expect(earlier == output, "seed \(seed): height \(block.height) emitted differently after a restart")
                }
                emitted[block.height] = output
                index += 1
                switch random.next() % 10 {
                case 0, 1, 2:
                    saved = engine.canonicalBytes
                case 3:
                    engine = try ReconciliationEngine(canonicalBytes: saved)
                    index = Int(engine.cursor)
                    kills += 1
                case 4:
                    let before = engine.canonicalBytes
                    #expect(try engine.process(block).isEmpty, "seed \(seed): a re-fed block produced output")
                    #expect(engine.canonicalBytes == before, "seed \(seed): a re-fed block changed the state")
                default:
                    break
                }
            }
            #expect(kills > 0, "seed \(seed): the run was never killed")
            #expect(emitted == expected, "seed \(seed): outputs differ from the uninterrupted run")
            #expect(engine.canonicalBytes == uninterrupted.canonicalBytes, "seed \(seed): final states differ")
        }
    }
}
