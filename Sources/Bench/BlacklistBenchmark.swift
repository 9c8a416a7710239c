import ConsortTesting
import Contracts
import Ledger
import LedgerCore

/// Measures batch checks against a large list: by default 10,000 subjects
/// checked against 1,000,000 entries.
///
/// The entries are written straight into a ``MemoryStore`` in the contract's
/// own record format (signing a million transactions would measure signing,
/// not lookups). The checks then run through ``BlacklistBook/check(_:purposeCode:batchSubjectsMax:)``,
/// the code the contract runs for `check` and `batchCheck`: metering, one
/// keyed read of each subject's record, one keyed read per live entry, the
/// lookup and history records written. The subjects are split into batches
/// of ``BlacklistLimits/batchSubjectsParameterMax``, as one transaction may
/// carry at most that many; each batch's writes are kept for the next, as a
/// committed block's would be.
public struct BlacklistBenchmark: Sendable {
    /// The figures of one run.
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        /// Entries on the list.
        public var entries: Int
        /// Subjects checked.
        public var subjectsChecked: Int
        /// Checked subjects that had an entry.
        public var matchedSubjects: Int
        /// Live entries found across the matched subjects.
        public var matchedEntries: Int
        /// Transactions' worth of batches the subjects were split into.
        public var batches: Int
        /// State reads made by the checks: a few per subject, never a scan.
        public var stateReads: Int
        /// State writes made by the checks (lookup records, history steps).
        public var stateWrites: Int
        /// Seconds spent building the list.
        public var buildSeconds: Double
        /// Seconds spent checking.
        public var checkSeconds: Double

        /// Subjects checked per second.
        public var subjectsPerSecond: Double { checkSeconds > 0 ? Double(subjectsChecked) / checkSeconds : 0 }

        /// A number with three decimals, without Foundation.
        static func decimal(_ value: Double) -> String {
            let scaled = Int64((value * 1000).rounded())
            let sign = scaled < 0 ? "-" : ""
            let magnitude = scaled.magnitude
            let fraction = String(magnitude % 1000)
            return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
        }

        public var description: String {
            """
            blacklist batch check: \(subjectsChecked) subjects against \(entries) entries in \(batches) batches
              matched \(matchedSubjects) subjects (\(matchedEntries) entries)
              state reads \(stateReads) (\(Self.decimal(Double(stateReads) / Double(max(1, subjectsChecked)))) per subject), writes \(stateWrites)
              build \(Self.decimal(buildSeconds)) s, check \(Self.decimal(checkSeconds)) s, \(Int(subjectsPerSecond)) subjects/s
            """
        }
    }

    /// Entries on the list.
    public var entryCount: Int
    /// Subjects checked.
    public var subjectCount: Int
    /// How many of the checked subjects are on the list.
    public var listedSubjectCount: Int
    /// Seed of the generator that picks which listed subjects are checked.
    public var seed: UInt64

    /// A benchmark of `subjectCount` checks, `listedSubjectCount` of them on a
    /// list of `entryCount` entries. Negative counts are taken as zero; more
    /// listed subjects than subjects or entries are capped.
    public init(entryCount: Int = 1_000_000, subjectCount: Int = 10_000, listedSubjectCount: Int = 1_000, seed: UInt64 = 1) {
        self.entryCount = max(0, entryCount)
        self.subjectCount = max(0, subjectCount)
        self.listedSubjectCount = max(0, min(listedSubjectCount, subjectCount, entryCount))
        self.seed = seed
    }

    static let consortiumKey = Array("consort-benchmark-consortium-key".utf8)
    static let uploaders = (0..<8).map { "bank\($0)" }

    /// The subject of the `index`th listed entry: persons and companies alternate.
    static func listedSubject(_ index: Int) throws -> BlacklistSubject {
        if index % 2 == 0 {
            return try BlacklistSubject.person(identifier: "listed-person-\(index)", consortiumKey: consortiumKey)
        }
        return try BlacklistFixtures.company(serial: UInt64(index))
    }

    /// Builds the list, runs the checks and returns the figures.
    public func run() throws -> Result {
        let clock = ContinuousClock()
        let store = MemoryStore()
        let started = clock.now
        var parameters = BlacklistParameters.defaults
        parameters.baseAllowance = BlacklistLimits.allowanceMax
        let key = try PrivateKey.generate().publicKey
        try build(store: store, parameters: parameters, uploaderKey: key)
        let built = clock.now

        var generator = SplitMix64(seed: seed)
        var subjects: [BlacklistSubject] = []
        subjects.reserveCapacity(subjectCount)
        var picked = Set<Int>()
        while picked.count < listedSubjectCount {
            let index = Int(generator.next() % UInt64(entryCount))
            if picked.insert(index).inserted { subjects.append(try Self.listedSubject(index)) }
        }
        var absent = 0
        while subjects.count < subjectCount {
            subjects.append(try BlacklistSubject.person(identifier: "absent-person-\(absent)", consortiumKey: Self.consortiumKey))
            absent += 1
        }

        let counter = BlacklistBenchmarkCounter()
        var state = BlacklistBenchmarkState(store: store, counter: counter)
        var outcome = BlacklistCheckOutcome(subjectsChecked: 0, matchedSubjects: 0, matchedEntries: 0)
        let batchSize = Int(BlacklistLimits.batchSubjectsParameterMax)
        var batches = 0
        let checkStarted = clock.now
        var start = 0
        while start < subjects.count {
            let batch = Array(subjects[start..<min(start + batchSize, subjects.count)])
            let caller = BlacklistCaller(
                organizationID: "checker", kind: .bank, signer: key, transactionID: Hash.sha256(Array("benchmark-batch-\(batches)".utf8)),
                blockHeight: UInt64(batches + 1), blockTimeMs: 1_767_225_600_000 + UInt64(batches) * 1000)
            var book = BlacklistBook(state: state, parameters: parameters, caller: caller)
            let result = try book.check(batch, purposeCode: parameters.purposeCodes[0], batchSubjectsMax: batchSize)
            state = book.state
            outcome.subjectsChecked += result.subjectsChecked
            outcome.matchedSubjects += result.matchedSubjects
            outcome.matchedEntries += result.matchedEntries
            batches += 1
            start += batchSize
        }
        let finished = clock.now
        return Result(
            entries: entryCount, subjectsChecked: outcome.subjectsChecked, matchedSubjects: outcome.matchedSubjects,
            matchedEntries: outcome.matchedEntries, batches: batches, stateReads: counter.reads, stateWrites: counter.writes,
            buildSeconds: (built - started).inSeconds, checkSeconds: (finished - checkStarted).inSeconds)
    }

    /// Writes `entryCount` live entries, each on its own subject, in the contract's format.
    private func build(store: MemoryStore, parameters: BlacklistParameters, uploaderKey: PublicKey) throws {
        func full(_ key: [UInt8]) -> [UInt8] { namespacedKey(BlacklistContract.name, key) }
        var batch = WriteBatch()
        batch.put(full(BlacklistKeys.parameters), parameters.canonicalBytes)
        let listedAtMs: UInt64 = 1_767_225_600_000 - 1000
        for index in 0..<entryCount {
            let id = UInt64(index + 1)
            let subject = try Self.listedSubject(index)
            var entry = BlacklistEntry(
                id: id, subject: subject, uploader: Self.uploaders[index % Self.uploaders.count], uploaderKey: uploaderKey,
                reasonCode: parameters.reasonCodes[index % parameters.reasonCodes.count], evidenceHash: Hash.sha256(Array("evidence-\(index)".utf8)),
                note: nil, expiresAtMs: nil, listedAtMs: listedAtMs, listedAtHeight: 1, retentionEndsAtMs: listedAtMs + parameters.retentionMs)
            entry.historyCount = 1
            var record = BlacklistSubjectRecord()
            record.liveEntryIDs = [id]
            record.allEntryIDs = [id]
            batch.put(full(BlacklistKeys.entry(id)), entry.canonicalBytes)
            batch.put(full(BlacklistKeys.subject(subject)), record.canonicalBytes)
            if batch.count >= 20_000 {
                try store.write(batch, sync: false)
                batch = WriteBatch()
            }
        }
        batch.put(full(BlacklistKeys.nextEntryID), BlacklistCounterRecord(value: UInt64(entryCount + 1)).canonicalBytes)
        try store.write(batch, sync: false)
    }
}

/// Counts the benchmark's state traffic.
final class BlacklistBenchmarkCounter {
    var reads = 0
    var writes = 0
}

/// The list in a memory store, with a batch's writes layered on top.
struct BlacklistBenchmarkState: BlacklistStateAccess {
    let store: MemoryStore
    let counter: BlacklistBenchmarkCounter
    var pending: [[UInt8]: [UInt8]] = [:]

    init(store: MemoryStore, counter: BlacklistBenchmarkCounter) {
        self.store = store
        self.counter = counter
    }

    func read(_ key: [UInt8]) throws(StorageError) -> [UInt8]? {
        counter.reads += 1
        if let value = pending[key] { return value }
        return try store.get(namespacedKey(BlacklistContract.name, key))
    }

    mutating func write(_ key: [UInt8], _ value: [UInt8]) {
        counter.writes += 1
        pending[key] = value
    }

    mutating func emitEvent(_ name: String, _ attributes: [(String, String)]) {}

    mutating func writeIndex(_ index: String, _ key: [UInt8]) {}
}

