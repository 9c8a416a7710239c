import ConsensusSimulator
import Consensus
import LedgerCore
import Testing

/// Seeds per configuration in the normal run; CONSORT_SIM_SEEDS raises it
/// (long mode), CONSORT_SIM_SEED replays one seed exactly.
enum SeedPlan {
    static func environment(_ name: String) -> String? {
        guard let pointer = getenv(name) else { return nil }
        return String(cString: pointer)
    }

    static func seeds(default count: Int, salt: UInt64) -> [UInt64] {
        if let text = environment("CONSORT_SIM_SEED"), let seed = UInt64(text) { return [seed] }
        let total = environment("CONSORT_SIM_SEEDS").flatMap(Int.init) ?? count
        return (0..<UInt64(max(1, total))).map { $0 &+ salt &* 1_000_000 }
    }
}

/// Runs every seed, prints failing seeds so they can be replayed, and a summary.
func runSeeds(_ label: String, seeds: [UInt64], configure: (UInt64) -> SimulationOptions) -> [SimulationResult] {
    var failures: [SimulationResult] = []
    var maxHeight: UInt64 = 0
    var maxView: UInt64 = 0
    for seed in seeds {
        var simulation = Simulation(options: configure(seed))
        let result = simulation.run()
        maxHeight = max(maxHeight, result.committedHeight)
        maxView = max(maxView, result.viewChanges)
        if !result.passed {
            report("[\(label)] FAILED — replay with CONSORT_SIM_SEED=\(seed): \(result)")
            failures.append(result)
        }
    }
    report("[\(label)] \(seeds.count) seeds, \(failures.count) failed, highest height \(maxHeight), highest view \(maxView)")
    return failures
}

/// Writes a line to standard error at once (standard output is buffered when redirected).
func report(_ line: String) {
    let text = Array((line + "\n").utf8)
    _ = text.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
}

#if canImport(Glibc)
import Glibc
#endif
