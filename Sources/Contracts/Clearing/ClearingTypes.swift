import Ledger
import LedgerCore

/// Which participant's view of a payment a record is.
///
/// The side of a record follows from who posts it: a clearing house always
/// posts the `clearing` side; a bank posts the `payer` side when it is the
/// record's payer institution and the `payee` side when it is the record's
/// payee institution. A bank that is neither may not post.
public enum ClearingSide: String, CaseIterable, Comparable, Sendable, Codable, CanonicalCodable {
    case payer
    case payee
    case clearing

    var tag: UInt64 {
        switch self {
        case .payer: 0
        case .payee: 1
        case .clearing: 2
        }
    }

    public static func < (lhs: ClearingSide, rhs: ClearingSide) -> Bool { lhs.tag < rhs.tag }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("clearing side")
        guard let side = Self.allCases.first(where: { $0.tag == tag }) else { throw .unknownTag(field: "clearing side", tag: tag) }
        self = side
    }
}

/// The status a participant gives a payment.
public enum PaymentStatus: String, CaseIterable, Sendable, CanonicalCodable {
    case sent
    case received
    case settled
    case returned
    case rejected
    case timedOut = "timed_out"

    var tag: UInt64 {
        switch self {
        case .sent: 0
        case .received: 1
        case .settled: 2
        case .returned: 3
        case .rejected: 4
        case .timedOut: 5
        }
    }

    /// The money moved or is moving: `sent`, `received` or `settled`.
    public var isSuccess: Bool { self == .sent || self == .received || self == .settled }

    /// The payment did not go through or was unwound: `returned`, `rejected` or `timed_out`.
    public var isFailure: Bool { !isSuccess }

    /// No update may follow a record in this status.
    public var isFinal: Bool { self == .returned || self == .rejected }

    /// Whether an update from `self` to `next` is allowed: the status must
    /// change, `returned` and `rejected` are final, and a settled payment can
    /// only be returned.
    public func allowsUpdate(to next: PaymentStatus) -> Bool {
        guard next != self, !isFinal else { return false }
        if self == .settled { return next == .returned }
        return true
    }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("payment status")
        guard let status = Self.allCases.first(where: { $0.tag == tag }) else { throw .unknownTag(field: "payment status", tag: tag) }
        self = status
    }
}

/// The classes of reconciliation break.
public enum BreakKind: String, CaseIterable, Comparable, Sendable, Codable, CanonicalCodable {
    /// 长款: the clearing side settled the payment and this bank side has no record of it.
    case long
    /// 短款: this bank side records success and the clearing side has no record of it.
    case short
    /// This bank side's amount differs from the clearing side's (same currency).
    case amountMismatch = "amount_mismatch"
    /// This bank side's currency differs from the clearing side's.
    case currencyMismatch = "currency_mismatch"
    /// One of this bank side and the clearing side records success, the other failure.
    case statusMismatch = "status_mismatch"
    /// This side's record repeats an earlier payment of the same side under another id.
    case duplicate
    /// The clearing side has held the payment as sent or received for longer than the threshold (在途).
    case inTransit = "in_transit"

    var tag: UInt64 {
        switch self {
        case .long: 0
        case .short: 1
        case .amountMismatch: 2
        case .currencyMismatch: 3
        case .statusMismatch: 4
        case .duplicate: 5
        case .inTransit: 6
        }
    }

    public static func < (lhs: BreakKind, rhs: BreakKind) -> Bool { lhs.tag < rhs.tag }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.readTag("break kind")
        guard let kind = Self.allCases.first(where: { $0.tag == tag }) else { throw .unknownTag(field: "break kind", tag: tag) }
        self = kind
    }
}

/// An institution (organization id of a bank) and an account at it.
public struct AccountRef: Equatable, Hashable, Sendable, CanonicalCodable {
    /// Organization id of the bank.
    public var institution: String
    /// The account at that bank, as the bank writes it.
    public var account: String

    /// Creates an account reference.
    public init(institution: String, account: String) {
        self.institution = institution
        self.account = account
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(institution)
        encoder.write(account)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        institution = try decoder.readString("institution", limit: Limits.identifierBytesMax)
        account = try decoder.readString("account", limit: ClearingLimits.accountBytesMax)
    }
}

/// What every record of one side of a payment says about the payment: the
/// arguments of `clearing.post`, the stored side and the `record` event all
/// carry these, in this order, in their encodings.
public struct PaymentFields: Equatable, Sendable, CanonicalCodable {
    /// The paying bank and account.
    public var payer: AccountRef
    /// The receiving bank and account.
    public var payee: AccountRef
    /// Positive, in minor units of `currency` (after any correction, on a stored side).
    public var amountMinor: UInt64
    /// ISO 4217 alphabetic code: three upper-case ASCII letters.
    public var currency: String
    /// When the participant's own system recorded the payment (ms since 1970); informational.
    public var participantTimestampMs: UInt64
    /// The clearing channel, for example `CNAPS-HVPS`, `IBPS` or `CIPS`.
    public var channel: String
    /// The status in the participant's own books.
    public var status: PaymentStatus

    /// Creates the fields of a payment record.
    public init(payer: AccountRef, payee: AccountRef, amountMinor: UInt64, currency: String, participantTimestampMs: UInt64,
                channel: String, status: PaymentStatus) {
        self.payer = payer
        self.payee = payee
        self.amountMinor = amountMinor
        self.currency = currency
        self.participantTimestampMs = participantTimestampMs
        self.channel = channel
        self.status = status
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(payer)
        encoder.write(payee)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(participantTimestampMs)
        encoder.write(channel)
        encoder.write(status)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        payer = try decoder.read(AccountRef.self, "payer")
        payee = try decoder.read(AccountRef.self, "payee")
        amountMinor = try decoder.readUInt64("amount")
        currency = try decoder.readString("currency", limit: 3)
        participantTimestampMs = try decoder.readUInt64("participant timestamp")
        channel = try decoder.readString("channel", limit: ClearingLimits.channelBytesMax)
        status = try decoder.read(PaymentStatus.self, "status")
    }
}

/// A record that carries a payment's fields; `record.payer` reads `record.fields.payer`.
@dynamicMemberLookup
public protocol CarriesPaymentFields {
    var fields: PaymentFields { get set }
}

extension CarriesPaymentFields {
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<PaymentFields, Value>) -> Value {
        get { fields[keyPath: keyPath] }
        set { fields[keyPath: keyPath] = newValue }
    }
}

/// Arguments of `clearing.post`: one participant's record of a payment.
public struct PostRecord: Equatable, Sendable, CanonicalCodable, CarriesPaymentFields {
    /// End-to-end id or message id; unique across the consortium.
    public var paymentID: String
    public var fields: PaymentFields

    /// Creates the arguments of `clearing.post`.
    public init(paymentID: String, payer: AccountRef, payee: AccountRef, amountMinor: UInt64, currency: String,
                participantTimestampMs: UInt64, channel: String, status: PaymentStatus) {
        self.paymentID = paymentID
        fields = PaymentFields(payer: payer, payee: payee, amountMinor: amountMinor, currency: currency,
                               participantTimestampMs: participantTimestampMs, channel: channel, status: status)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(paymentID)
        encoder.write(fields)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        fields = try decoder.read(PaymentFields.self, "payment")
    }
}

/// Arguments of `clearing.update`: a new status for the sender's own side of a
/// payment, optionally correcting the amount and currency it recorded.
public struct UpdateRecord: Equatable, Sendable, CanonicalCodable {
    /// The payment whose side (the sender's own) is updated.
    public var paymentID: String
    /// The new status; see ``PaymentStatus/allowsUpdate(to:)``.
    public var status: PaymentStatus
    /// When the participant's system recorded the change (ms since 1970); informational.
    public var participantTimestampMs: UInt64
    /// A corrected amount; nil keeps the current one.
    public var correctedAmountMinor: UInt64?
    /// A corrected currency; nil keeps the current one.
    public var correctedCurrency: String?

    /// Creates the arguments of `clearing.update`.
    public init(paymentID: String, status: PaymentStatus, participantTimestampMs: UInt64,
                correctedAmountMinor: UInt64? = nil, correctedCurrency: String? = nil) {
        self.paymentID = paymentID
        self.status = status
        self.participantTimestampMs = participantTimestampMs
        self.correctedAmountMinor = correctedAmountMinor
        self.correctedCurrency = correctedCurrency
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(paymentID)
        encoder.write(status)
        encoder.write(participantTimestampMs)
        encoder.write(optional: correctedAmountMinor)
        encoder.write(optional: correctedCurrency)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        status = try decoder.read(PaymentStatus.self, "status")
        participantTimestampMs = try decoder.readUInt64("participant timestamp")
        correctedAmountMinor = try decoder.readOptionalUInt64("corrected amount")
        correctedCurrency = try decoder.readOptionalString("corrected currency", limit: 3)
    }
}

/// Arguments of `clearing.openCycle`.
public struct OpenCycle: Equatable, Sendable, CanonicalCodable {
    /// A new id, unique across all clearing houses.
    public var cycleID: String

    /// Creates the arguments of `clearing.openCycle`.
    public init(cycleID: String) { self.cycleID = cycleID }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.write(cycleID) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        cycleID = try decoder.readString("cycle id", limit: ClearingLimits.cycleIDBytesMax)
    }
}

/// Arguments of `clearing.closeCycle`.
public struct CloseCycle: Equatable, Sendable, CanonicalCodable {
    /// The cycle to freeze or close.
    public var cycleID: String
    /// Close even though some participants have not signed, recording who has not.
    public var force: Bool

    /// Creates the arguments of `clearing.closeCycle`.
    public init(cycleID: String, force: Bool = false) {
        self.cycleID = cycleID
        self.force = force
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(cycleID)
        encoder.write(force)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        cycleID = try decoder.readString("cycle id", limit: ClearingLimits.cycleIDBytesMax)
        force = try decoder.readBool("force")
    }
}

/// Arguments of `clearing.signCycle`: a participant's sign-off on the net
/// positions of a closing cycle, named by their hash so that a bank signs
/// exactly the figures it has seen (the `position` query returns the hash).
public struct SignCycle: Equatable, Sendable, CanonicalCodable {
    /// The frozen cycle to sign.
    public var cycleID: String
    /// ``Swift/Array/positionsHash`` of the cycle's positions, as the `position` query reports it.
    public var positionsHash: Hash

    /// Creates the arguments of `clearing.signCycle`.
    public init(cycleID: String, positionsHash: Hash) {
        self.cycleID = cycleID
        self.positionsHash = positionsHash
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(cycleID)
        encoder.write(positionsHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        cycleID = try decoder.readString("cycle id", limit: ClearingLimits.cycleIDBytesMax)
        positionsHash = try decoder.read(Hash.self, "positions hash")
    }
}

/// Identifies one finding: the break kind on one side of a payment, detected
/// at a height. The engine is deterministic, so every job following the same
/// chain names the same break with the same key.
public struct FindingKey: Equatable, Hashable, Comparable, Sendable, CanonicalCodable {
    /// The payment with the break.
    public var paymentID: String
    /// The class of break.
    public var kind: BreakKind
    /// The side the break is on: the bank side for long, short and mismatches, the clearing side for in transit.
    public var side: ClearingSide
    /// Height of the committed block whose processing exposed the break.
    public var detectedAtHeight: UInt64

    /// Creates a finding key.
    public init(paymentID: String, kind: BreakKind, side: ClearingSide, detectedAtHeight: UInt64) {
        self.paymentID = paymentID
        self.kind = kind
        self.side = side
        self.detectedAtHeight = detectedAtHeight
    }

    public static func < (lhs: FindingKey, rhs: FindingKey) -> Bool {
        (lhs.paymentID, lhs.kind.tag, lhs.side.tag, lhs.detectedAtHeight) < (rhs.paymentID, rhs.kind.tag, rhs.side.tag, rhs.detectedAtHeight)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(paymentID)
        encoder.write(kind)
        encoder.write(side)
        encoder.write(detectedAtHeight)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        kind = try decoder.read(BreakKind.self, "break kind")
        side = try decoder.read(ClearingSide.self, "side")
        detectedAtHeight = try decoder.readUInt64("detected at height")
    }
}

/// Arguments of `clearing.postFinding`: a break found by a reconciliation job.
public struct PostFinding: Equatable, Sendable, CanonicalCodable {
    /// Which break, on which side, found at which height.
    public var key: FindingKey
    /// What the job saw, for people.
    public var details: String

    /// Creates the arguments of `clearing.postFinding`.
    public init(key: FindingKey, details: String) {
        self.key = key
        self.details = details
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
        encoder.write(details)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.read(FindingKey.self, "finding")
        details = try decoder.readString("details", limit: ClearingLimits.detailsBytesMax)
    }
}

/// Arguments of `clearing.resolveFinding`: a later record cleared the break.
public struct ResolveFinding: Equatable, Sendable, CanonicalCodable {
    /// The finding being resolved.
    public var key: FindingKey
    /// Height of the committed block whose processing showed the break cleared.
    public var resolvedAtHeight: UInt64
    /// What cleared the break, for people.
    public var details: String

    /// Creates the arguments of `clearing.resolveFinding`.
    public init(key: FindingKey, resolvedAtHeight: UInt64, details: String) {
        self.key = key
        self.resolvedAtHeight = resolvedAtHeight
        self.details = details
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(key)
        encoder.write(resolvedAtHeight)
        encoder.write(details)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        key = try decoder.read(FindingKey.self, "finding")
        resolvedAtHeight = try decoder.readUInt64("resolved at height")
        details = try decoder.readString("details", limit: ClearingLimits.detailsBytesMax)
    }
}

/// An institution's multilateral net position in one currency: what it
/// receives minus what it pays in a cycle's settled payments (minor units).
public struct NetPosition: Equatable, Sendable, Codable, CanonicalCodable {
    /// Organization id of the bank.
    public var institution: String
    /// ISO 4217 code.
    public var currency: String
    /// Received minus paid, in minor units; negative means the bank owes.
    public var netMinor: Int64

    /// Creates a position.
    public init(institution: String, currency: String, netMinor: Int64) {
        self.institution = institution
        self.currency = currency
        self.netMinor = netMinor
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(institution)
        encoder.write(currency)
        encoder.write(netMinor)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        institution = try decoder.readString("institution", limit: Limits.identifierBytesMax)
        currency = try decoder.readString("currency", limit: 3)
        netMinor = try decoder.readInt64("net position")
    }
}

extension Array where Element == NetPosition {
    /// The hash a participant signs when it signs off a cycle: SHA-256 of the
    /// canonical encoding of the positions, sorted by institution then currency.
    public var positionsHash: Hash { Hash.tagged("consort/clearing-positions", canonicalList) }

    var canonicalList: [UInt8] {
        var encoder = CanonicalEncoder()
        encoder.write(self)
        return encoder.bytes
    }
}

/// True for a three-letter upper-case ASCII code (the shape of ISO 4217 alphabetic codes).
func isCurrencyCode(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    return bytes.count == 3 && bytes.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
}
