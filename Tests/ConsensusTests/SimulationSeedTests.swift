import ConsensusSimulator
import Consensus
import Testing

/// The behaviours of the Byzantine validators for one seed: every seed picks
/// f of them, so that all kinds run across the seeds.
func behaviours(seed: UInt64, faulty: Int) -> [ByzantineBehavior] {
    let all = ByzantineBehavior.allCases
    return (0..<faulty).map { all[Int((seed &+ UInt64($0) &* 3) % UInt64(all.count))] }
}

@Test func simulation_n4_allFaults_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 1000, salt: 4)
    let failures = runSeeds("n=4", seeds: seeds) { seed in
        SimulationOptions(seed: seed, validatorCount: 4, byzantine: behaviours(seed: seed, faulty: 1))
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}

@Test func simulation_n7_allFaults_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 250, salt: 7)
    let failures = runSeeds("n=7", seeds: seeds) { seed in
        SimulationOptions(seed: seed, validatorCount: 7, byzantine: behaviours(seed: seed, faulty: 2))
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}
