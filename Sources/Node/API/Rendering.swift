import Consensus
import Ledger
import LedgerCore

/// JSON shapes of ledger records, as the API and the CLI show them.
public enum Render {
    public static func transaction(_ transaction: Transaction) -> JSONValue {
        let body = transaction.body
        return .object([
            "id": .string(transaction.id.hex),
            "chainId": .string(body.chainID),
            "sender": .string(body.sender.hex),
            "nonce": .integer(Int64(clamping: body.nonce)),
            "expiresAtMs": .integer(Int64(clamping: body.expiresAtMs)),
            "contract": .string(body.call.contract),
            "operation": .string(body.call.operation),
            "arguments": .string(Hex.encode(body.call.arguments)),
            "signature": .string(transaction.signature.hex),
        ])
    }

    public static func event(_ event: Event) -> JSONValue {
        var attributes: [String: JSONValue] = [:]
        for attribute in event.attributes where attributes[attribute.key] == nil { attributes[attribute.key] = .string(attribute.value) }
        return .object(["contract": .string(event.contract), "name": .string(event.name), "attributes": .object(attributes)])
    }

    public static func receipt(_ receipt: Receipt) -> JSONValue {
        var object: [String: JSONValue] = [
            "transactionId": .string(receipt.transactionID.hex),
            "status": .string(receipt.isSuccess ? "success" : "rejected"),
            "events": .array(receipt.events.map(event)),
        ]
        if let rejection = receipt.rejection {
            object["error"] = .object(["code": .string(rejection.code), "message": .string(rejection.message)])
        }
        return .object(object)
    }

    public static func header(_ header: BlockHeader) -> JSONValue {
        .object([
            "height": .integer(Int64(clamping: header.height)),
            "hash": .string(header.hash.hex),
            "parentHash": .string(header.parentHash.hex),
            "timestampMs": .integer(Int64(clamping: header.timestampMs)),
            "proposer": .string(header.proposer.hex),
            "transactionsRoot": .string(header.transactionsRoot.hex),
            "stateHeight": .integer(Int64(clamping: header.stateHeight)),
            "stateRoot": .string(header.stateRoot.hex),
            "validatorSetHash": .string(header.validatorSetHash.hex),
        ])
    }

    public static func certificate(_ certificate: CommitCertificate) -> JSONValue {
        .object([
            "height": .integer(Int64(clamping: certificate.height)),
            "view": .integer(Int64(clamping: certificate.view)),
            "blockHash": .string(certificate.blockHash.hex),
            "signatures": .array(certificate.signatures.map {
                .object(["validator": .integer(Int64($0.validatorIndex)), "signature": .string($0.signature.hex)])
            }),
        ])
    }

    /// A block with its receipts and certificate; `encoded` carries the
    /// canonical bytes of block and certificate so a client can verify both offline.
    public static func block(_ block: Block, certificate: CommitCertificate?, receipts: [Receipt]?, stateRoot: Hash?) -> JSONValue {
        var object: [String: JSONValue] = [
            "header": header(block.header),
            "transactions": .array(block.transactions.map(transaction)),
        ]
        if let receipts { object["receipts"] = .array(receipts.map(receipt)) }
        if let stateRoot { object["resultingStateRoot"] = .string(stateRoot.hex) }
        if let certificate {
            object["certificate"] = Render.certificate(certificate)
            object["encoded"] = .string(Hex.encode(CertifiedBlock(block: block, certificate: certificate).canonicalBytes))
        }
        return .object(object)
    }
}

extension JSONValue {
    /// Compact JSON text.
    public var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .string(let value): return JSONValue.quote(value)
        case .array(let values): return "[" + values.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { JSONValue.quote($0) + ":" + (members[$0] ?? .null).jsonText }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count) + String(control.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
