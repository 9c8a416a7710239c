import Foundation
import Testing
@testable import Contracts
import Ledger
import ConsortTesting
import LedgerCore

/// Seeds for randomized tests: `CLEARING_SEED` replays one seed.
func clearingSeeds(count: UInt64, base: UInt64) -> [UInt64] {
    if let text = Environment.value("CLEARING_SEED"), let seed = UInt64(text) { return [seed] }
    return (0..<count).map { base &+ $0 &* 0x9E37 }
}

enum Environment {
    static func value(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
}

extension JSONValue {
    /// The elements of an array, or none.
    var items: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }

    var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}

/// Expects a receipt to be a success.
func expectSuccess(_ receipt: Receipt, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(receipt.isSuccess, "rejected: \(String(describing: receipt.rejection))", sourceLocation: sourceLocation)
}
