import Foundation
import Testing
@testable import Contracts
import Ledger
import LedgerCore

/// Random sequences of blacklist operations, each checked against a small
/// model of the rules: whether every operation succeeds, and exactly which
/// entries every check matches. Seeds are printed on failure; set
/// BLACKLIST_SEED to replay one.
@Suite struct BlacklistModelTests {
    typealias F = BlacklistFixture

    struct ModelEntry {
        var id: UInt64
        var subject: Int
        var uploader: String
        var expiryMs: UInt64
        var underAppeal = false
        var ended = false
        var deadlineMs: UInt64 = 0
        var appellants: Set<String> = []
        var opinions: Set<String> = []

        /// Whether the entry still matches at `nowMs`, with the lapse and expiry rules applied.
        func live(at nowMs: UInt64) -> Bool {
            if ended { return false }
            if underAppeal, deadlineMs + 1 <= expiryMs, nowMs >= deadlineMs + 1 { return false }
            return nowMs < expiryMs
        }

        func underAppeal(at nowMs: UInt64) -> Bool { live(at: nowMs) && underAppeal }
    }

    static let day = F.dayMs
    static let institutions = ["bankA", "bankB", "bankC", "clear", "reg"]
    static let banks = ["bankA", "bankB", "bankC"]

    func run(seed: UInt64, steps: Int) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let fixture = try F(parameters: .object(["retentionDays": .integer(40), "appealAnswerDays": .integer(5), "baseAllowance": .integer(1_000_000)]))
        let subjects = try (0..<5).map { try F.company(UInt64(100 + $0)) }
        var entries: [ModelEntry] = []
        let context = "seed \(seed) (replay with BLACKLIST_SEED=\(seed))"

        for step in 0..<steps {
            let now = fixture.chain.nextBlockTimeMs
            let where_ = "\(context), step \(step)"
            switch random.next() % 9 {
            case 0, 1:
                let organization = pick(["bankA", "bankB", "clear", "reg"])
                let subject = Int(random.next() % UInt64(subjects.count))
                let expected = !entries.contains { $0.subject == subject && $0.uploader == organization && $0.live(at: now) }
                let receipt = try fixture.submit(organization, .add, AddBlacklistEntry(subject: subjects[subject], reasonCode: "fraud", evidenceHash: F.evidence("e\(step)")))
                #expect(receipt.isSuccess == expected, "\(where_): add by \(organization): \(String(describing: receipt.rejection))")
                if receipt.isSuccess, let id = receipt.events.first(where: { $0.name == "entry_added" })?["entry"].flatMap({ UInt64($0) }) {
                    entries.append(ModelEntry(id: id, subject: subject, uploader: organization, expiryMs: now + 40 * Self.day))
                }
            case 2 where !entries.isEmpty:
                let index = Int(random.next() % UInt64(entries.count))
                let organization = pick(Self.institutions)
                let expected = entries[index].live(at: now) && (organization == entries[index].uploader || organization == "reg")
                let receipt = try fixture.submit(organization, .revoke, RevokeBlacklistEntry(entryID: entries[index].id, reason: "model"))
                #expect(receipt.isSuccess == expected, "\(where_): revoke \(entries[index].id) by \(organization): \(String(describing: receipt.rejection))")
                if receipt.isSuccess { entries[index].ended = true }
            case 3 where !entries.isEmpty:
                let index = Int(random.next() % UInt64(entries.count))
                let bank = pick(Self.banks)
                let entry = entries[index]
                let expected = entry.live(at: now) && !entry.underAppeal(at: now) && bank != entry.uploader && !entry.appellants.contains(bank)
                let receipt = try fixture.submit(bank, .appeal, FileBlacklistAppeal(entryID: entry.id, reason: "model", declaresSubjectIsCustomer: true, relationshipEvidenceHash: F.evidence("k")))
                #expect(receipt.isSuccess == expected, "\(where_): appeal \(entry.id) by \(bank): \(String(describing: receipt.rejection))")
                if receipt.isSuccess {
                    entries[index].underAppeal = true
                    entries[index].deadlineMs = now + 5 * Self.day
                    entries[index].appellants.insert(bank)
                }
            case 4 where !entries.isEmpty:
                let index = Int(random.next() % UInt64(entries.count))
                let entry = entries[index]
                let organization = random.next() % 4 == 0 ? pick(Self.institutions) : entry.uploader
                let withdraw = random.next() % 2 == 0
                let expected = organization == entry.uploader && entry.underAppeal(at: now)
                let receipt = try fixture.submit(organization, .answer, AnswerBlacklistAppeal(entryID: entry.id, decision: withdraw ? .withdraw : .maintain, reason: "model"))
                #expect(receipt.isSuccess == expected, "\(where_): answer \(entry.id) by \(organization): \(String(describing: receipt.rejection))")
                if receipt.isSuccess {
                    entries[index].underAppeal = false
                    entries[index].ended = withdraw
                }
            case 5 where !entries.isEmpty:
                let index = Int(random.next() % UInt64(entries.count))
                let organization = pick(Self.institutions)
                let entry = entries[index]
                let expected = entry.live(at: now) && organization != entry.uploader && !entry.opinions.contains(organization)
                let operation: BlacklistContract.Operation = random.next() % 2 == 0 ? .corroborate : .dispute
                let receipt = try fixture.submit(organization, operation, BlacklistOpinion(entryID: entry.id, reason: "model"))
                #expect(receipt.isSuccess == expected, "\(where_): \(operation) \(entry.id) by \(organization): \(String(describing: receipt.rejection))")
                if receipt.isSuccess { entries[index].opinions.insert(organization) }
            case 6:
                fixture.chain.advanceClock(byMs: random.next() % (8 * Self.day))
            default:
                let subject = Int(random.next() % UInt64(subjects.count))
                let receipt = try fixture.check(pick(Self.institutions), subjects[subject])
                #expect(receipt.isSuccess, "\(where_): check: \(String(describing: receipt.rejection))")
                var matched = Set<UInt64>()
                for attribute in F.matches(receipt)[subjects[subject].text]?.attributes ?? [] where attribute.key == "entry" {
                    let summary = try JSONDecoder().decode(JSONValue.self, from: Data(attribute.value.utf8))
                    if let id = summary["entry"]?.intValue { matched.insert(UInt64(id)) }
                }
                let expected = Set(entries.filter { $0.subject == subject && $0.live(at: now) }.map(\.id))
                #expect(matched == expected, "\(where_): check of subject \(subject) matched \(matched.sorted()), model says \(expected.sorted())")
            }
        }
    }

    @Test func randomOperations_agreeWithTheModel() throws {
        if let text = ProcessInfo.processInfo.environment["BLACKLIST_SEED"], let seed = UInt64(text) {
            try run(seed: seed, steps: 150)
            return
        }
        for seed: UInt64 in [1, 2, 3, 20_261_123] {
            try run(seed: seed, steps: 150)
        }
    }
}
