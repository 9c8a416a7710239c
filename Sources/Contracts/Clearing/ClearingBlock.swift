import Ledger
import LedgerCore

/// One side of a payment as it stands after a committed `post` or `update`:
/// the full record, carried by the contract's `record` event so that a job
/// can follow the clearing records from blocks alone.
public struct ClearingRecordChange: Equatable, Sendable, CanonicalCodable, CarriesPaymentFields {
    public var paymentID: String
    /// Which participant's view this is.
    public var side: ClearingSide
    /// The organization that posted (and alone may update) this side.
    public var postedBy: String
    /// The side's current fields (after any correction or update).
    public var fields: PaymentFields
    /// 1 for the first record, then one more for each update.
    public var version: UInt32

    /// Creates a record change; the contract builds these, tests and tools may too.
    public init(paymentID: String, side: ClearingSide, postedBy: String, payer: AccountRef, payee: AccountRef, amountMinor: UInt64,
                currency: String, participantTimestampMs: UInt64, channel: String, status: PaymentStatus, version: UInt32) {
        self.init(paymentID: paymentID, side: side, postedBy: postedBy,
                  fields: PaymentFields(payer: payer, payee: payee, amountMinor: amountMinor, currency: currency,
                                        participantTimestampMs: participantTimestampMs, channel: channel, status: status),
                  version: version)
    }

    /// Creates a record change from a side's fields.
    public init(paymentID: String, side: ClearingSide, postedBy: String, fields: PaymentFields, version: UInt32) {
        self.paymentID = paymentID
        self.side = side
        self.postedBy = postedBy
        self.fields = fields
        self.version = version
    }

    init(paymentID: String, head: SideRecord) {
        self.init(paymentID: paymentID, side: head.side, postedBy: head.postedBy, fields: head.fields, version: head.version)
    }

    func eventAttributes(change: String) -> [(String, String)] {
        [("change", change), ("payment", paymentID), ("side", side.rawValue), ("postedBy", postedBy),
         ("payerInstitution", fields.payer.institution), ("payerAccount", fields.payer.account),
         ("payeeInstitution", fields.payee.institution), ("payeeAccount", fields.payee.account),
         ("amountMinor", String(fields.amountMinor)), ("currency", fields.currency),
         ("participantTimestampMs", String(fields.participantTimestampMs)),
         ("channel", fields.channel), ("status", fields.status.rawValue), ("version", String(version))]
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
        encoder.write(fields)
        encoder.write(version)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        paymentID = try decoder.readString("payment id", limit: ClearingLimits.paymentIDBytesMax)
        side = try decoder.read(ClearingSide.self, "side")
        postedBy = try decoder.readString("posted by", limit: Limits.identifierBytesMax)
        fields = try decoder.read(PaymentFields.self, "payment")
        version = try decoder.readUInt32("version")
    }
}

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
