import Foundation

/// Milliseconds since the Unix epoch by this machine's clock: for the edges
/// (API, CLI, jobs, benchmarks), never inside consensus or execution.
public func wallClockMs() -> UInt64 {
    UInt64(max(0, Date().timeIntervalSince1970 * 1000))
}
