import ArgumentParser
import Foundation
import Ledger
import LedgerCore
import Bench
import Node
import ReconciliationJob
import NodeAPI
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

    @Option(name: .long, help: "Seconds to wait for the commit; the transaction stays pending after it.")
    var waitTimeout: UInt64 = Self.defaultWaitSeconds

    /// How long a command waits for a commit unless told otherwise.
    static let defaultWaitSeconds: UInt64 = 60

    func validate() throws {
        try ArgumentRanges.check(ttl, 1...ArgumentRanges.ttlSecondsMax, "--ttl (seconds)")
        try ArgumentRanges.check(waitTimeout, 1...ArgumentRanges.waitSecondsMax, "--wait-timeout (seconds)")
    }
}

/// Signs `call` with the signing options' key, submits it and (by default) waits for its receipt.
/// Exits with status 1 if the ledger rejects it. A successful receipt is
/// printed by `describe` when given (not with `--json`), else event by event.
func submitAndReport(_ call: ContractCall, options: NodeOptions, signing: SigningOptions,
                     describe: ((CommittedTransaction) -> Void)? = nil) async throws {
    let client = try options.client()
    let key = try KeyFile.read(signing.key)
    let transaction = try await signedTransaction(call, key: key, client: client, nonce: signing.nonce, ttlSeconds: signing.ttl)
    try await client.submit(transaction)
    guard signing.wait else {
        if options.json { try printJSON(TransactionStatusAnswer.pending(id: transaction.id)) } else { print("\(transaction.id.hex) pending") }
        return
    }
    let answer = try await waitForCommit(transaction.id, client: client, timeoutSeconds: signing.waitTimeout)
    if options.json {
        try printJSON(answer)
    } else if let describe, let committed = answer.committed, committed.receipt.isSuccess {
        printTransactionStatus(answer, withEvents: false)
        describe(committed)
    } else {
        printTransactionStatus(answer)
    }
    if answer.committed?.receipt.isSuccess != true { throw ExitCode(ExitStatus.failed.rawValue) }
}

/// Builds and signs a transaction for the node's chain with the right nonce.
func signedTransaction(_ call: ContractCall, key: PrivateKey, client: NodeClient, nonce: UInt64?, ttlSeconds: UInt64) async throws -> Transaction {
    let status = try await client.status()
    let chainID = try await client.genesis().chainID
    let account = try await client.nonces(of: key.publicKey)
    guard account.organization != nil else {
        throw CLIError("key \(key.publicKey.hex) belongs to no organization of this consortium", .badInput)
    }
    let chosenNonce = nonce ?? account.pendingNonce
    let nodeTimeMs = status.lastBlockTimeMs
    let (expiry, overflow) = max(wallClockMs(), nodeTimeMs).addingReportingOverflow(ttlSeconds * 1000)
    guard !overflow, expiry <= ArgumentRanges.timeMsMax else {
        throw CLIError("the node's last block time \(nodeTimeMs) ms plus --ttl \(ttlSeconds) s is past 9999-12-31; is the node's clock right?")
    }
    return Transaction.signed(chainID: chainID, key: key, nonce: chosenNonce, expiresAtMs: expiry, call: call)
}

/// Polls the node until the transaction commits; the answer is always
/// `.committed`. The id goes to standard error first, so a wait that is
/// interrupted loses nothing; a wait that runs out says whether the node
/// sees a quorum of validators.
func waitForCommit(_ id: Hash, client: NodeClient, timeoutSeconds: UInt64) async throws -> TransactionStatusAnswer {
    FileHandle.standardError.write(Data("\(id.hex) submitted; waiting up to \(timeoutSeconds) s for it to commit (if interrupted, it stays pending: `consort tx status \(id.hex)`)\n".utf8))
    if let committed = try await client.waitForCommit(id, timeoutMs: timeoutSeconds * 1000) { return .committed(committed) }
    var quorum = ""
    do {
        let reach = try await client.status().validatorReach
        if reach.of > 0 && reach.reached < reach.needed {
            quorum = "; the node sees \(reach.reached) of \(reach.of) validators connected, \(reach.needed) needed to commit"
        }
    } catch {
        quorum = " (and its status cannot be read: \(error))"
    }
    throw CLIError("transaction \(id.hex) did not commit within \(timeoutSeconds) s\(quorum); it stays pending until it expires: check it later with `consort tx status \(id.hex)`")
}
