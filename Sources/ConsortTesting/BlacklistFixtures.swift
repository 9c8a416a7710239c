import Contracts
import LedgerCore

/// Blacklist subjects for tests and benchmarks.
public enum BlacklistFixtures {
    /// A valid credit code for `serial`: "91" (enterprise), a region, nine digits of serial, and the check character.
    public static func company(serial: UInt64) throws -> BlacklistSubject {
        let digits = String(serial % 1_000_000_000)
        let body = Array(("91110000" + String(repeating: "0", count: 9 - digits.count) + digits).utf8)
        guard let check = BlacklistCreditCode.checkCharacter(body) else {
            throw BlacklistSubjectError(.invalidCreditCode, "benchmark credit code body is outside the alphabet")
        }
        return try BlacklistSubject.company(creditCode: String(decoding: body + [check], as: UTF8.self))
    }
}
