import LedgerCore

/// One Server-Sent Event: `id`, `event` and `data` lines closed by a blank line.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `id` field; empty when the event has none.
    public var id: String
    /// The `event` field; empty when the event has none.
    public var event: String
    /// The `data` lines joined by newlines.
    public var data: String

    public init(id: String, event: String, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }

    /// The event as it is written on the stream.
    public var text: String {
        var out = ""
        if !id.isEmpty { out += "id: \(id)\n" }
        if !event.isEmpty { out += "event: \(event)\n" }
        if !data.utf8.contains(UInt8(ascii: "\n")) {
            out += "data: \(data)\n"
        } else {
            for line in data.split(separator: "\n", omittingEmptySubsequences: false) { out += "data: \(line)\n" }
        }
        return out + "\n"
    }

    /// A comment line that keeps an idle stream open; readers skip it.
    public static let keepAlive = ": keep-alive\n\n"
}

/// Why a stream of Server-Sent Events could not be read.
public struct ServerSentEventError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Assembles Server-Sent Events from the lines of a stream: returns an event
/// when its closing blank line arrives; comment lines and events without
/// data are skipped.
public struct ServerSentEventParser: Sendable {
    private let dataBytesMax: Int
    private var id = ""
    private var event = ""
    private var data: [String] = []
    private var dataBytes = 0

    /// - Parameter dataBytesMax: the largest `data` of one event; a longer one is an error.
    public init(dataBytesMax: Int = APILimits.responseBodyBytesMax) {
        self.dataBytesMax = dataBytesMax
    }

    /// Feeds one line (without its line break); returns the event it completes.
    public mutating func feed(_ line: String) throws(ServerSentEventError) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                id = ""
                event = ""
                data = []
                dataBytes = 0
            }
            guard !data.isEmpty else { return nil }
            return ServerSentEvent(id: id, event: event, data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let (field, value) = Self.split(line)
        switch field {
        case "id": id = value
        case "event": event = value
        case "data":
            dataBytes += value.utf8.count + 1
            guard dataBytes <= dataBytesMax else {
                throw ServerSentEventError("an event's data is above \(dataBytesMax) bytes")
            }
            data.append(value)
        default: break
        }
        return nil
    }

    private static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}

/// One event of `GET /v1/events`: a committed block, sent as
/// `id: <height>`, `event: block` and `data: <the block's JSON>` (a ``BlockAnswer``).
public struct BlockStreamEvent: Sendable, Equatable {
    /// The `event` name of block events.
    public static let name = "block"

    public var block: BlockAnswer

    public init(block: BlockAnswer) {
        self.block = block
    }

    /// The block's height, which is also the event's id.
    public var height: UInt64 { block.header.height }

    /// The event as the server writes it.
    public func serverSentEvent() throws(EncodingError) -> ServerSentEvent {
        ServerSentEvent(id: String(height), event: Self.name, data: try APICoding.text(block))
    }

    /// Reads a block event; the id must be the block's height.
    public init(_ event: ServerSentEvent) throws(DecodingError) {
        guard event.event == Self.name || event.event.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "an event named '\(event.event)' is not a block event"))
        }
        block = try APICoding.decode(BlockAnswer.self, from: Array(event.data.utf8))
        guard event.id.isEmpty || event.id == String(block.header.height) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: [], debugDescription: "the event's id '\(event.id)' is not the height \(block.header.height) of its block"))
        }
    }
}

/// One event of `GET /v1/events?encoding=binary`: a committed block in the
/// canonical encoding, for jobs and load generators that would otherwise
/// spend more on JSON than on their own work. Sent as `id: <height>`,
/// `event: block-binary` and `data: <hex of this value's canonical bytes>`:
/// the certified block (block and commit certificate), its receipts and the
/// state root after it.
public struct EncodedBlockEvent: Sendable, Equatable, CanonicalCodable {
    /// The `event` name of binary block events.
    public static let name = "block-binary"

    public var certified: CertifiedBlock
    public var receipts: [Receipt]
    public var stateRoot: Hash

    public init(certified: CertifiedBlock, receipts: [Receipt], stateRoot: Hash) {
        self.certified = certified
        self.receipts = receipts
        self.stateRoot = stateRoot
    }

    /// The block's height, which is also the event's id.
    public var height: UInt64 { certified.block.height }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.write(certified)
        encoder.write(receipts)
        encoder.write(stateRoot)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        certified = try decoder.read(CertifiedBlock.self, "certified block")
        receipts = try decoder.readArray(Receipt.self, "receipts", limit: Limits.receiptsPerBlockMax)
        stateRoot = try decoder.read(Hash.self, "state root")
    }

    /// The event as the server writes it.
    public var serverSentEvent: ServerSentEvent {
        ServerSentEvent(id: String(height), event: Self.name, data: Hex.encode(canonicalBytes))
    }

    /// The event of block `height` from its parts' canonical bytes, as a
    /// ledger stores them, without decoding them: this value's encoding is
    /// its parts' encodings one after another.
    public static func serverSentEvent(height: UInt64, block: [UInt8], certificate: [UInt8], receipts: [UInt8],
                                       stateRoot: [UInt8]) -> ServerSentEvent {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(block.count + certificate.count + receipts.count + stateRoot.count)
        for part in [block, certificate, receipts, stateRoot] { bytes.append(contentsOf: part) }
        return ServerSentEvent(id: String(height), event: name, data: Hex.encode(bytes))
    }

    /// Reads a binary block event; the id must be the block's height.
    public init(_ event: ServerSentEvent) throws(ServerSentEventError) {
        guard event.event == Self.name else { throw ServerSentEventError("an event named '\(event.event)' is not a binary block event") }
        guard let bytes = Hex.decode(event.data) else { throw ServerSentEventError("the data of binary block event \(event.id) is not hex") }
        do {
            self = try EncodedBlockEvent(canonicalBytes: bytes)
        } catch {
            throw ServerSentEventError("binary block event \(event.id) does not decode: \(error)")
        }
        guard event.id.isEmpty || event.id == String(height) else {
            throw ServerSentEventError("the event's id '\(event.id)' is not the height \(height) of its block")
        }
    }
}
