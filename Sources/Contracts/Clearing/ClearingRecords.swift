import Ledger
import LedgerCore

/// The clearing contract's parameters, read from `genesis.contracts["clearing"]`
/// and kept in state under `config`.
public struct ClearingConfiguration: Equatable, Sendable, CanonicalCodable {
    /// Organization ids allowed to post findings and resolutions. Empty means
    /// any bank or clearing house (genesis key `reconcilers`, default empty).
    public var reconcilers: [String]
    /// Largest amount one record may carry, in minor units (genesis key
    /// `amountMinorMax`, default 10^15, at most 10^15).
    public var amountMinorMax: UInt64
    /// The parameters every reconciliation job must use, so that all jobs
    /// find the same breaks at the same heights (genesis keys `graceMs`,
    /// `inTransitThresholdMs`, `duplicateWindowMs`, `retentionMs`).
    public var reconciliation: ReconciliationConfiguration

    /// Any bank or clearing house reconciles; amounts up to 10^15; default reconciliation parameters.
    public static let defaults = ClearingConfiguration(
        reconcilers: [], amountMinorMax: ClearingLimits.amountMinorCeiling, reconciliation: .defaults)

    /// Creates a configuration; genesis files go through ``parse(_:organizations:)`` instead.
    public init(reconcilers: [String], amountMinorMax: UInt64, reconciliation: ReconciliationConfiguration) {
        self.reconcilers = reconcilers
        self.amountMinorMax = amountMinorMax
        self.reconciliation = reconciliation
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(reconcilers)
        encoder.write(amountMinorMax)
        encoder.write(reconciliation)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        reconcilers = try decoder.readStrings("reconcilers", countLimit: ClearingLimits.reconcilersMax, lengthLimit: Limits.identifierBytesMax)
        amountMinorMax = try decoder.readUInt64("amount max")
        reconciliation = try decoder.read(ReconciliationConfiguration.self, "reconciliation")
    }

    /// Reads the genesis section; absent keys take their defaults, unknown
    /// keys and bad values are refused with an error naming the field.
    public static func parse(_ section: JSONValue?, organizations: [Organization]) throws(GenesisError) -> ClearingConfiguration {
        var configuration = ClearingConfiguration.defaults
        guard let section else { return configuration }
        guard case .object(let fields) = section else { throw GenesisError("contracts.clearing must be an object") }
        let known: Set<String> = ["reconcilers", "amountMinorMax", "graceMs", "inTransitThresholdMs", "duplicateWindowMs", "retentionMs"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw GenesisError("contracts.clearing.\(unknown) is not a known parameter (\(known.sorted().joined(separator: ", ")))")
        }
        func integer(_ name: String, in range: ClosedRange<Int64>) throws(GenesisError) -> UInt64? {
            guard let value = fields[name] else { return nil }
            guard case .integer(let number) = value, range.contains(number) else {
                throw GenesisError("contracts.clearing.\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return UInt64(number)
        }
        let dayMs: Int64 = 24 * 3600 * 1000
        if let value = try integer("amountMinorMax", in: 1...Int64(ClearingLimits.amountMinorCeiling)) { configuration.amountMinorMax = value }
        if let value = try integer("graceMs", in: 0...dayMs) { configuration.reconciliation.graceMs = value }
        if let value = try integer("inTransitThresholdMs", in: 1...(30 * dayMs)) { configuration.reconciliation.inTransitThresholdMs = value }
        if let value = try integer("duplicateWindowMs", in: 0...(30 * dayMs)) { configuration.reconciliation.duplicateWindowMs = value }
        if let value = try integer("retentionMs", in: 60_000...(366 * dayMs)) { configuration.reconciliation.retentionMs = value }
        if let value = fields["reconcilers"] {
            guard case .array(let entries) = value, entries.count <= ClearingLimits.reconcilersMax else {
                throw GenesisError("contracts.clearing.reconcilers must be an array of at most \(ClearingLimits.reconcilersMax) organization ids")
            }
            var ids: [String] = []
            for entry in entries {
                guard case .string(let id) = entry else { throw GenesisError("contracts.clearing.reconcilers must hold organization ids (strings)") }
                guard let organization = organizations.first(where: { $0.id == id }) else {
                    throw GenesisError("contracts.clearing.reconcilers names unknown organization '\(id)'")
                }
                guard organization.kind == .bank || organization.kind == .clearingHouse else {
                    throw GenesisError("contracts.clearing.reconcilers names '\(id)', which is neither a bank nor a clearing house")
                }
                guard !ids.contains(id) else { throw GenesisError("contracts.clearing.reconcilers names '\(id)' twice") }
                ids.append(id)
            }
            configuration.reconcilers = ids.sorted()
        }
        return configuration
    }
}

/// The current view of one side of a payment; each change also leaves an
/// immutable ``RecordVersion``.
struct SideRecord: Equatable, Sendable, CanonicalCodable, CarriesPaymentFields {
    var side: ClearingSide
    /// The organization that posted this side; only it may update it.
    var postedBy: String
    /// The side's current fields (after any correction or update).
    var fields: PaymentFields
    /// Number of versions, counting the first record as version 1.
    var version: UInt32
    var postedAtHeight: UInt64
    var postedAtMs: UInt64
    /// The cycle the clearing side's settlement was recorded in.
    var settledInCycle: String?
    /// The cycle the clearing side's return of a settled payment was recorded in.
    var returnedInCycle: String?

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(side)
        encoder.write(postedBy)
        encoder.write(fields)
        encoder.write(version)
        encoder.write(postedAtHeight)
        encoder.write(postedAtMs)
        encoder.write(optional: settledInCycle)
        encoder.write(optional: returnedInCycle)
    }

    init(side: ClearingSide, postedBy: String, record: PostRecord, height: UInt64, timeMs: UInt64) {
        self.side = side
        self.postedBy = postedBy
        fields = record.fields
        version = 1
        postedAtHeight = height
        postedAtMs = timeMs
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        side = try decoder.read(ClearingSide.self, "side")
        postedBy = try decoder.readString("posted by", limit: Limits.identifierBytesMax)
        fields = try decoder.read(PaymentFields.self, "payment")
        version = try decoder.readUInt32("version")
        postedAtHeight = try decoder.readUInt64("posted at height")
        postedAtMs = try decoder.readUInt64("posted at time")
        settledInCycle = try decoder.readOptionalString("settled in cycle", limit: ClearingLimits.cycleIDBytesMax)
        returnedInCycle = try decoder.readOptionalString("returned in cycle", limit: ClearingLimits.cycleIDBytesMax)
    }
}

/// One immutable version of a side: the first record or a later update.
struct RecordVersion: Equatable, Sendable, CanonicalCodable {
    var version: UInt32
    var status: PaymentStatus
    var amountMinor: UInt64
    var currency: String
    var participantTimestampMs: UInt64
    var height: UInt64
    var timeMs: UInt64
    var transactionID: Hash

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(version)
        encoder.write(status)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(participantTimestampMs)
        encoder.write(height)
        encoder.write(timeMs)
        encoder.write(transactionID)
    }

    init(version: UInt32, status: PaymentStatus, amountMinor: UInt64, currency: String, participantTimestampMs: UInt64,
         height: UInt64, timeMs: UInt64, transactionID: Hash) {
        self.version = version
        self.status = status
        self.amountMinor = amountMinor
        self.currency = currency
        self.participantTimestampMs = participantTimestampMs
        self.height = height
        self.timeMs = timeMs
        self.transactionID = transactionID
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        version = try decoder.readUInt32("version")
        status = try decoder.read(PaymentStatus.self, "status")
        amountMinor = try decoder.readUInt64("amount")
        currency = try decoder.readString("currency", limit: 3)
        participantTimestampMs = try decoder.readUInt64("participant timestamp")
        height = try decoder.readUInt64("height")
        timeMs = try decoder.readUInt64("time")
        transactionID = try decoder.read(Hash.self, "transaction id")
    }
}

/// Where a settlement cycle stands.
public enum CycleStatus: String, CaseIterable, Sendable, Codable, CanonicalCodable {
    /// Settlements and returns recorded by its clearing house go into it.
    case open
    /// Frozen: no more entries; participants sign off its positions.
    case closing
    /// Finished: every participant signed, or the clearing house closed it
    /// with `force`, recording who had not signed.
    case closed

    var tag: UInt64 {
        switch self {
        case .open: 0
        case .closing: 1
        case .closed: 2
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("cycle status")
        guard let status = Self.allCases.first(where: { $0.tag == tag }) else { throw .unknownTag(field: "cycle status", tag: tag) }
        self = status
    }
}

/// A participant's sign-off of a cycle.
struct CycleSignature: Equatable, Sendable, CanonicalCodable {
    var institution: String
    var height: UInt64

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(institution)
        encoder.write(height)
    }

    init(institution: String, height: UInt64) {
        self.institution = institution
        self.height = height
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        institution = try decoder.readString("institution", limit: Limits.identifierBytesMax)
        height = try decoder.readUInt64("signed at height")
    }
}

/// A settlement cycle of one clearing house with its running net positions.
struct SettlementCycle: Equatable, Sendable, CanonicalCodable {
    var id: String
    var clearingHouse: String
    var status: CycleStatus
    var openedAtHeight: UInt64
    var openedAtMs: UInt64
    var frozenAtHeight: UInt64?
    var closedAtHeight: UInt64?
    var entryCount: UInt64
    /// Sorted by institution, then currency.
    var positions: [NetPosition]
    /// Institutions named as payer or payee by any entry, sorted; each must sign.
    var participants: [String]
    var signatures: [CycleSignature]
    /// Participants that had not signed when the cycle was closed with `force`.
    var unsigned: [String]

    init(id: String, clearingHouse: String, openedAtHeight: UInt64, openedAtMs: UInt64) {
        self.id = id
        self.clearingHouse = clearingHouse
        status = .open
        self.openedAtHeight = openedAtHeight
        self.openedAtMs = openedAtMs
        entryCount = 0
        positions = []
        participants = []
        signatures = []
        unsigned = []
    }

    var awaitingSignatures: [String] {
        let signed = Set(signatures.map(\.institution))
        return participants.filter { !signed.contains($0) }
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(id)
        encoder.write(clearingHouse)
        encoder.write(status)
        encoder.write(openedAtHeight)
        encoder.write(openedAtMs)
        encoder.write(optional: frozenAtHeight)
        encoder.write(optional: closedAtHeight)
        encoder.write(entryCount)
        encoder.write(positions)
        encoder.write(participants)
        encoder.write(signatures)
        encoder.write(unsigned)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.readString("cycle id", limit: ClearingLimits.cycleIDBytesMax)
        clearingHouse = try decoder.readString("clearing house", limit: Limits.identifierBytesMax)
        status = try decoder.read(CycleStatus.self, "cycle status")
        openedAtHeight = try decoder.readUInt64("opened at height")
        openedAtMs = try decoder.readUInt64("opened at time")
        frozenAtHeight = try decoder.readOptionalUInt64("frozen at height")
        closedAtHeight = try decoder.readOptionalUInt64("closed at height")
        entryCount = try decoder.readUInt64("entry count")
        positions = try decoder.readArray(NetPosition.self, "positions", limit: ClearingLimits.cyclePositionsMax)
        participants = try decoder.readStrings("participants", countLimit: ClearingLimits.cycleParticipantsMax, lengthLimit: Limits.identifierBytesMax)
        signatures = try decoder.readArray(CycleSignature.self, "signatures", limit: ClearingLimits.cycleParticipantsMax)
        unsigned = try decoder.readStrings("unsigned", countLimit: ClearingLimits.cycleParticipantsMax, lengthLimit: Limits.identifierBytesMax)
    }
}

/// What a cycle entry records.
enum CycleEntryKind: UInt64, Sendable {
    /// The clearing side recorded the payment settled: payer pays, payee receives.
    case settlement = 0
    /// The clearing side recorded a settled payment returned: the reverse.
    case reversal = 1
}

/// One settlement or reversal in a cycle.
struct CycleEntry: Equatable, Sendable, CanonicalCodable {
    var kind: CycleEntryKind
    var paymentID: String
    var payer: String
    var payee: String
    var amountMinor: UInt64
    var currency: String
    var height: UInt64

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(kind.rawValue)
        encoder.write(paymentID)
        encoder.write(payer)
        encoder.write(payee)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(height)
    }

    init(kind: CycleEntryKind, paymentID: String, payer: String, payee: String, amountMinor: UInt64, currency: String, height: UInt64) {
        self.kind = kind
        self.paymentID = paymentID
        self.payer = payer
        self.payee = payee
        self.amountMinor = amountMinor
        self.currency = currency
        self.height = height
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("cycle entry kind")
        guard let kind = CycleEntryKind(rawValue: tag) else { throw .unknownTag(field: "cycle entry kind", tag: tag) }
        self.kind = kind
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        payer = try decoder.readString("payer", limit: Limits.identifierBytesMax)
        payee = try decoder.readString("payee", limit: Limits.identifierBytesMax)
        amountMinor = try decoder.readUInt64("amount")
        currency = try decoder.readString("currency", limit: 3)
        height = try decoder.readUInt64("height")
    }
}

/// A posted finding, never changed afterwards; its resolution is a separate record.
struct FindingRecord: Equatable, Sendable, CanonicalCodable {
    var key: FindingKey
    var details: String
    var postedBy: String
    var postedAtHeight: UInt64
    /// Institutions and clearing house the payment concerns, sorted.
    var participants: [String]

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
        encoder.write(details)
        encoder.write(postedBy)
        encoder.write(postedAtHeight)
        encoder.write(participants)
    }

    init(key: FindingKey, details: String, postedBy: String, postedAtHeight: UInt64, participants: [String]) {
        self.key = key
        self.details = details
        self.postedBy = postedBy
        self.postedAtHeight = postedAtHeight
        self.participants = participants
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.read(FindingKey.self, "finding")
        details = try decoder.readString("details", limit: ClearingLimits.detailsBytesMax)
        postedBy = try decoder.readString("posted by", limit: Limits.identifierBytesMax)
        postedAtHeight = try decoder.readUInt64("posted at height")
        participants = try decoder.readStrings("participants", countLimit: 3, lengthLimit: Limits.identifierBytesMax)
    }
}

/// The resolution of a finding.
struct ResolutionRecord: Equatable, Sendable, CanonicalCodable {
    var resolvedAtHeight: UInt64
    var details: String
    var postedBy: String
    var postedAtHeight: UInt64

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(resolvedAtHeight)
        encoder.write(details)
        encoder.write(postedBy)
        encoder.write(postedAtHeight)
    }

    init(resolvedAtHeight: UInt64, details: String, postedBy: String, postedAtHeight: UInt64) {
        self.resolvedAtHeight = resolvedAtHeight
        self.details = details
        self.postedBy = postedBy
        self.postedAtHeight = postedAtHeight
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        resolvedAtHeight = try decoder.readUInt64("resolved at height")
        details = try decoder.readString("details", limit: ClearingLimits.detailsBytesMax)
        postedBy = try decoder.readString("posted by", limit: Limits.identifierBytesMax)
        postedAtHeight = try decoder.readUInt64("posted at height")
    }
}

/// State and index keys of the clearing contract. Payment and cycle ids are
/// written in hex so that ids holding `/` cannot collide with key separators.
enum ClearingKeys {
    static let config = stateKey("config")

    static func side(_ paymentID: String, _ side: ClearingSide) -> [UInt8] { stateKey("side", hex(paymentID), side.rawValue) }
    static func version(_ paymentID: String, _ side: ClearingSide, _ version: UInt32) -> [UInt8] {
        stateKey("version", hex(paymentID), side.rawValue, padded(UInt64(version)))
    }
    static func versions(_ paymentID: String) -> [UInt8] { stateKey("version", hex(paymentID), "") }

    static func cycle(_ id: String) -> [UInt8] { stateKey("cycle", hex(id)) }
    static func openCycle(_ clearingHouse: String) -> [UInt8] { stateKey("open-cycle", clearingHouse) }
    static func cycleEntry(_ id: String, _ sequence: UInt64) -> [UInt8] { stateKey("cycle-entry", hex(id), padded(sequence)) }

    /// The part of a finding's keys after its prefix; also the participant index's key after the participant.
    static func findingSuffix(_ key: FindingKey) -> String {
        [hex(key.paymentID), key.kind.rawValue, key.side.rawValue, padded(key.detectedAtHeight)].joined(separator: "/")
    }
    static func finding(_ key: FindingKey) -> [UInt8] { Array(("finding/" + findingSuffix(key)).utf8) }
    static func resolution(_ key: FindingKey) -> [UInt8] { Array(("resolution/" + findingSuffix(key)).utf8) }
    static let findings = stateKey("finding", "")
    static func findings(of paymentID: String) -> [UInt8] { stateKey("finding", hex(paymentID), "") }
    /// The open finding of a (payment, kind, side), if any; the value is its detection height.
    static func openFinding(_ paymentID: String, _ kind: BreakKind, _ side: ClearingSide) -> [UInt8] {
        stateKey("open-finding", hex(paymentID), kind.rawValue, side.rawValue)
    }
    static let openFindings = stateKey("open-finding", "")

    /// The finding key of an open-finding entry: its key after ``openFindings`` and its value.
    static func openFindingKey(_ suffix: [UInt8], height raw: [UInt8]) -> FindingKey? {
        let parts = suffix.split(separator: 0x2F, omittingEmptySubsequences: false)
        guard parts.count == 3, let idBytes = Hex.decode(String(decoding: parts[0], as: UTF8.self)),
              let id = String(validating: idBytes, as: UTF8.self),
              let kind = BreakKind(rawValue: String(decoding: parts[1], as: UTF8.self)),
              let side = ClearingSide(rawValue: String(decoding: parts[2], as: UTF8.self)) else { return nil }
        var decoder = CanonicalDecoder(raw)
        guard let height = try? decoder.readUInt64("height"), decoder.remaining == 0 else { return nil }
        return FindingKey(paymentID: id, kind: kind, side: side, detectedAtHeight: height)
    }
    static let participantIndex = "participant"

    static func hex(_ text: String) -> String { Hex.encode(Array(text.utf8)) }

    /// Decimal, zero-padded to 20 digits so that keys sort by number.
    static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}
