import Ledger
import LedgerCore
import NodeAPI

/// The mapping from ledger records to the API's shapes (NodeAPI), which the
/// server encodes and its clients decode.
public enum Render {
    public static func transaction(_ transaction: Transaction) -> APITransaction {
        let body = transaction.body
        return APITransaction(
            id: transaction.id, chainID: body.chainID, sender: body.sender, nonce: body.nonce, expiresAtMs: body.expiresAtMs,
            contract: body.call.contract, operation: body.call.operation, arguments: HexBytes(body.call.arguments),
            signature: transaction.signature)
    }

    /// An event: each attribute's first value by key, and every value of a
    /// key that repeats, so no value is lost.
    public static func event(_ event: Event) -> APIEvent {
        var attributes: [String: String] = [:]
        var repeated: [String: [String]] = [:]
        for attribute in event.attributes {
            if let first = attributes[attribute.key] {
                repeated[attribute.key, default: [first]].append(attribute.value)
            } else {
                attributes[attribute.key] = attribute.value
            }
        }
        return APIEvent(contract: event.contract, name: event.name, attributes: attributes, repeated: repeated.isEmpty ? nil : repeated)
    }

    public static func receipt(_ receipt: Receipt) -> APIReceipt {
        APIReceipt(
            transactionID: receipt.transactionID, status: receipt.isSuccess ? .success : .rejected, events: receipt.events.map(event),
            error: receipt.rejection.map { APIErrorDetail(code: $0.code, message: $0.message) })
    }

    public static func header(_ header: BlockHeader) -> APIBlockHeader {
        APIBlockHeader(
            height: header.height, hash: header.hash, parentHash: header.parentHash, timestampMs: header.timestampMs,
            proposer: header.proposer, transactionsRoot: header.transactionsRoot, stateHeight: header.stateHeight,
            stateRoot: header.stateRoot, validatorSetHash: header.validatorSetHash)
    }

    public static func certificate(_ certificate: CommitCertificate) -> APICertificate {
        APICertificate(
            height: certificate.height, view: certificate.view, blockHash: certificate.blockHash,
            signatures: certificate.signatures.map { APICertificate.ValidatorSignature(validator: $0.validatorIndex, signature: $0.signature) })
    }

    /// A block with its receipts and certificate; `encoded` carries the
    /// canonical bytes of block and certificate so a client can verify both offline.
    public static func block(_ block: Block, certificate: CommitCertificate?, receipts: [Receipt]?, stateRoot: Hash?) -> BlockAnswer {
        BlockAnswer(
            header: header(block.header), transactions: block.transactions.map(transaction), receipts: receipts.map { $0.map(receipt) },
            certificate: certificate.map(Render.certificate), resultingStateRoot: stateRoot,
            encoded: certificate.map { HexBytes(CertifiedBlock(block: block, certificate: $0).canonicalBytes) })
    }

    /// Offline evidence that the transaction at `index` is in `block`: nil when the index is not in the block.
    public static func inclusion(ofTransactionAt index: Int, in block: Block, certificate: CommitCertificate) -> InclusionEvidence? {
        guard let steps = MerkleTree.proof(of: block.transactions.map(\.id), index: index) else { return nil }
        var encoder = CanonicalEncoder()
        encoder.write(steps)
        return InclusionEvidence(header: HexBytes(block.header.canonicalBytes), merkleProof: HexBytes(encoder.bytes),
                                 certificate: HexBytes(certificate.canonicalBytes))
    }

    public static func status(_ status: NodeStatus) -> StatusAnswer {
        StatusAnswer(
            node: status.nodeName, role: status.role, height: status.head.height, lastBlockHash: status.head.blockHash,
            stateRoot: status.head.stateRoot, lastBlockTimeMs: status.head.timestampMs, view: status.view, primary: status.primary,
            mempoolSize: status.mempoolSize, syncing: status.syncing,
            validators: status.validators.map {
                ValidatorStatus(name: $0.name, nodeKey: $0.nodeKey, address: $0.address, connected: $0.connected, isSelf: $0.isSelf)
            },
            fault: status.fault)
    }

    public static func genesis(_ genesis: Genesis) -> GenesisAnswer {
        GenesisAnswer(
            chainID: genesis.chainID, hash: genesis.hash,
            validators: genesis.validators.validators.map {
                GenesisValidator(name: $0.name, organization: $0.organizationID, nodeKey: $0.nodeKey, address: $0.address)
            })
    }
}
