import Ledger
import LedgerCore

/// One side of a payment as it stands after a committed `post` or `update`:
/// the full record, carried by the contract's `record` event so that a job
/// can follow the clearing records from blocks alone.
public struct ClearingRecordChange: Equatable, Sendable, CanonicalCodable {
    public var paymentID: String
    /// Which participant's view this is.
    public var side: ClearingSide
    /// The organization that posted (and alone may update) this side.
    public var postedBy: String
    public var payer: AccountRef
    public var payee: AccountRef
    /// The side's current amount in minor units (after any correction).
    public var amountMinor: UInt64
    /// The side's current ISO 4217 currency (after any correction).
    public var currency: String
    public var participantTimestampMs: UInt64
    public var channel: String
    /// The side's current status.
    public var status: PaymentStatus
    /// 1 for the first record, then one more for each update.
    public var version: UInt32

    /// Creates a record change; the contract builds these, tests and tools may too.
    public init(paymentID: String, side: ClearingSide, postedBy: String, payer: AccountRef, payee: AccountRef, amountMinor: UInt64,
                currency: String, participantTimestampMs: UInt64, channel: String, status: PaymentStatus, version: UInt32) {
        self.paymentID = paymentID
        self.side = side
        self.postedBy = postedBy
        self.payer = payer
        self.payee = payee
        self.amountMinor = amountMinor
        self.currency = currency
        self.participantTimestampMs = participantTimestampMs
        self.channel = channel
        self.status = status
        self.version = version
    }

    init(paymentID: String, head: SideRecord) {
        self.init(paymentID: paymentID, side: head.side, postedBy: head.postedBy, payer: head.payer, payee: head.payee,
                  amountMinor: head.amountMinor, currency: head.currency, participantTimestampMs: head.participantTimestampMs,
                  channel: head.channel, status: head.status, version: head.version)
    }

    func eventAttributes(change: String) -> [(String, String)] {
        [("change", change), ("payment", paymentID), ("side", side.rawValue), ("postedBy", postedBy),
         ("payerInstitution", payer.institution), ("payerAccount", payer.account),
         ("payeeInstitution", payee.institution), ("payeeAccount", payee.account),
         ("amountMinor", String(amountMinor)), ("currency", currency), ("participantTimestampMs", String(participantTimestampMs)),
         ("channel", channel), ("status", status.rawValue), ("version", String(version))]
    }

    /// Reads a `clearing.record` event, saying what is wrong when it is malformed.
    init(event: Event) throws(ReconciliationError) {
        func field(_ name: String) throws(ReconciliationError) -> String {
            guard let value = event[name] else { throw .malformedEvent("attribute '\(name)' is missing") }
            return value
        }
        func number(_ name: String) throws(ReconciliationError) -> UInt64 {
            guard let value = UInt64(try field(name)) else { throw .malformedEvent("attribute '\(name)' is not an unsigned integer") }
            return value
        }
        guard let side = ClearingSide(rawValue: try field("side")) else { throw .malformedEvent("unknown side") }
        guard let status = PaymentStatus(rawValue: try field("status")) else { throw .malformedEvent("unknown status") }
        guard let version = UInt32(exactly: try number("version")), version > 0 else { throw .malformedEvent("bad version") }
        self.init(paymentID: try field("payment"), side: side, postedBy: try field("postedBy"),
                  payer: AccountRef(institution: try field("payerInstitution"), account: try field("payerAccount")),
                  payee: AccountRef(institution: try field("payeeInstitution"), account: try field("payeeAccount")),
                  amountMinor: try number("amountMinor"), currency: try field("currency"),
                  participantTimestampMs: try number("participantTimestampMs"), channel: try field("channel"), status: status, version: version)
        // Every field must fit the limits the engine's saved state is decoded with.
        do {
            _ = try ClearingRecordChange(canonicalBytes: canonicalBytes)
        } catch {
            throw .malformedEvent("\(error)")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(paymentID)
        encoder.write(side)
        encoder.write(postedBy)
        encoder.write(payer)
        encoder.write(payee)
        encoder.write(amountMinor)
        encoder.write(currency)
        encoder.write(participantTimestampMs)
        encoder.write(channel)
        encoder.write(status)
        encoder.write(version)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        side = try decoder.read(ClearingSide.self, "side")
        postedBy = try decoder.readString("posted by", limit: Limits.identifierBytesMax)
        payer = try decoder.read(AccountRef.self, "payer")
        payee = try decoder.read(AccountRef.self, "payee")
        amountMinor = try decoder.readUInt64("amount")
        currency = try decoder.readString("currency", limit: 3)
        participantTimestampMs = try decoder.readUInt64("participant timestamp")
        channel = try decoder.readString("channel", limit: ClearingLimits.channelBytesMax)
        status = try decoder.read(PaymentStatus.self, "status")
        version = try decoder.readUInt32("version")
    }
}

/// What the reconciliation engine needs from one committed block: its height,
/// its consensus time and the clearing record changes it committed, in
/// transaction order. Every committed block must be fed, even one without
/// clearing changes, because time-based breaks fall due on block time.
public struct ClearingBlock: Equatable, Sendable {
    /// The committed block's height.
    public var height: UInt64
    /// The block's consensus timestamp (ms since 1970): the engine's only clock.
    public var timeMs: UInt64
    /// The clearing record changes the block committed, in transaction order.
    public var changes: [ClearingRecordChange]

    /// Creates a block summary (``extract(block:receipts:)`` builds it from a committed block).
    public init(height: UInt64, timeMs: UInt64, changes: [ClearingRecordChange]) {
        self.height = height
        self.timeMs = timeMs
        self.changes = changes
    }

    /// Reads the clearing record changes of a committed block from the
    /// `clearing.record` events of its successful receipts.
    public static func extract(block: Block, receipts: [Receipt]) throws(ReconciliationError) -> ClearingBlock {
        guard receipts.count == block.transactions.count else {
            throw .receiptsMismatch(height: block.height, transactions: block.transactions.count, receipts: receipts.count)
        }
        var changes: [ClearingRecordChange] = []
        for receipt in receipts where receipt.isSuccess {
            for event in receipt.events where event.contract == ClearingContract.name && event.name == ClearingContract.recordEvent {
                do {
                    changes.append(try ClearingRecordChange(event: event))
                } catch {
                    throw .malformedEvent("block \(block.height), transaction \(receipt.transactionID.short)…: \(error)")
                }
            }
        }
        return ClearingBlock(height: block.height, timeMs: block.header.timestampMs, changes: changes)
    }
}

/// Why the reconciliation engine could not take a block.
public enum ReconciliationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A block was skipped: the engine takes every height in order.
    case gap(expected: UInt64, got: UInt64)
    /// A block's time is before the previous block's.
    case timeWentBackwards(height: UInt64, timeMs: UInt64, previousMs: UInt64)
    /// A block and its receipts do not belong together.
    case receiptsMismatch(height: UInt64, transactions: Int, receipts: Int)
    /// A `clearing.record` event could not be read.
    case malformedEvent(String)
    /// The engine tracks as many payments as it may.
    case capacity(payments: Int)

    /// What went wrong, for logs and the CLI.
    public var description: String {
        switch self {
        case .gap(let expected, let got): "expected block \(expected) next, got block \(got); feed every committed block in height order"
        case .timeWentBackwards(let height, let time, let previous): "block \(height) has time \(time) ms, before the previous block's \(previous) ms"
        case .receiptsMismatch(let height, let transactions, let receipts): "block \(height) has \(transactions) transactions but \(receipts) receipts"
        case .malformedEvent(let reason): "malformed clearing record event: \(reason)"
        case .capacity(let payments): "the engine already tracks \(payments) payments, its limit"
        }
    }
}
