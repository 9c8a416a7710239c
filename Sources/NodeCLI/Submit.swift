import ArgumentParser
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeClient

/// Options for commands that sign a transaction.
struct SigningOptions: ParsableArguments {
    @Option(name: .long, help: "The signer's key file.")
    var key: String

    @Option(name: .long, help: "Nonce to use (default: the sender's next nonce after what the node has pending).")
    var nonce: UInt64?

    @Option(name: .long, help: "Seconds until the transaction expires.")
    var ttl: UInt64 = 600

    @Flag(name: .long, inversion: .prefixedNo, help: "Wait until the transaction commits and print its receipt.")
    var wait = true

    func validate() throws {
        try ArgumentRanges.check(ttl, 1...ArgumentRanges.ttlSecondsMax, "--ttl (seconds)")
    }
}

/// Signs `call` with the signing options' key, submits it and (by default) waits for its receipt.
/// Exits with status 1 if the ledger rejects it.
func submitAndReport(_ call: ContractCall, options: NodeOptions, signing: SigningOptions) async throws {
    let client = try options.client()
    let key = try KeyFile.read(signing.key)
    let transaction = try await signedTransaction(call, key: key, client: client, nonce: signing.nonce, ttlSeconds: signing.ttl)
    try await client.submit(transaction)
    guard signing.wait else {
        if options.json { printJSON(["id": transaction.id.hex, "status": "pending"]) } else { print("\(transaction.id.hex) pending") }
        return
    }
    let object = try await waitForCommit(transaction.id, client: client, timeoutSeconds: 60)
    if options.json { printJSON(object) } else { printTransactionStatus(object) }
    let receipt = object["receipt"] as? [String: Any]
    if receipt?["status"] as? String != "success" { throw ExitCode(ExitStatus.failed.rawValue) }
}

/// Builds and signs a transaction for the node's chain with the right nonce.
func signedTransaction(_ call: ContractCall, key: PrivateKey, client: NodeClient, nonce: UInt64?, ttlSeconds: UInt64) async throws -> Transaction {
    let status = try await client.getJSON("/v1/status") as? [String: Any] ?? [:]
    let chainID = try await chainIdentifier(client)
    let account = try await client.getJSON("/v1/accounts/\(key.publicKey.hex)/nonce") as? [String: Any] ?? [:]
    guard account["organization"] is String else {
        throw CLIError("key \(key.publicKey.hex) belongs to no organization of this consortium", .badInput)
    }
    let reportedNonce = account["pendingNonce"] as? Int ?? account["nextNonce"] as? Int ?? 0
    guard let chosenNonce = nonce ?? UInt64(exactly: reportedNonce) else {
        throw CLIError("the node reported nonce \(reportedNonce) for key \(key.publicKey.hex), which no nonce can be; give --nonce")
    }
    let nodeTimeMs = UInt64(clamping: max(status["lastBlockTimeMs"] as? Int ?? 0, 0))
    let (expiry, overflow) = max(wallClockMs(), nodeTimeMs).addingReportingOverflow(ttlSeconds * 1000)
    guard !overflow, expiry <= ArgumentRanges.timeMsMax else {
        throw CLIError("the node's last block time \(nodeTimeMs) ms plus --ttl \(ttlSeconds) s is past 9999-12-31; is the node's clock right?")
    }
    return Transaction.signed(chainID: chainID, key: key, nonce: chosenNonce, expiresAtMs: expiry, call: call)
}

/// The chain id the node serves.
func chainIdentifier(_ client: NodeClient) async throws -> String {
    let genesis = try await client.getJSON("/v1/genesis") as? [String: Any] ?? [:]
    guard let chainID = genesis["chainId"] as? String else { throw CLIError("the node did not report its chain id") }
    return chainID
}

/// Polls the node until the transaction commits.
func waitForCommit(_ id: Hash, client: NodeClient, timeoutSeconds: Int) async throws -> [String: Any] {
    let deadline = Date().addingTimeInterval(TimeInterval(timeoutSeconds))
    while Date() < deadline {
        let answer: Any
        do {
            answer = try await client.getJSON("/v1/transactions/\(id.hex)")
        } catch {
            // A 404 means the node has not seen it yet (another node took it); keep polling.
            guard case .api(404, _, _) = error else { throw error }
            answer = [:]
        }
        if let object = answer as? [String: Any], object["status"] as? String == "committed" { return object }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw CLIError("transaction \(id.hex) did not commit within \(timeoutSeconds) s; check it later with `consort tx status \(id.hex)`")
}
