import ConsensusSimulator
import Consensus
import Testing

/// The behaviours of the Byzantine validators for one seed (placed first, so
/// that one is the primary of view 0, on odd seeds): every seed picks
/// f of them, so that all kinds run across the seeds.
func behaviours(seed: UInt64, faulty: Int) -> [ByzantineBehavior] {
    let all = ByzantineBehavior.allCases
    return (0..<faulty).map { all[Int((seed &+ UInt64($0) &* 3) % UInt64(all.count))] }
}

@Test func simulation_n4_allFaults_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 1500, salt: 4)
    let failures = runSeeds("n=4", seeds: seeds) { seed in
        var options = SimulationOptions(seed: seed, validatorCount: 4, byzantine: behaviours(seed: seed, faulty: 1))
        options.byzantineFirst = seed % 2 == 1
        return options
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}

@Test func simulation_n7_allFaults_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 500, salt: 7)
    let failures = runSeeds("n=7", seeds: seeds) { seed in
        var options = SimulationOptions(seed: seed, validatorCount: 7, byzantine: behaviours(seed: seed, faulty: 2))
        options.byzantineFirst = seed % 2 == 1
        return options
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}

@Test func simulation_sameSeed_replaysExactly() {
    for seed in SeedPlan.seeds(default: 5, salt: 11) {
        var options = SimulationOptions(seed: seed, validatorCount: 4, byzantine: [.twins])
        options.byzantineFirst = true
        var first = Simulation(options: options)
        var second = Simulation(options: options)
        let a = first.run()
        let b = second.run()
        #expect(a.description == b.description)
        #expect(a.messagesDelivered == b.messagesDelivered && a.ticks == b.ticks)
        report("[replay] \(a)")
    }
}

/// A harsher network: more loss and delay, a small watermark window and
/// frequent checkpoints, so proposals hit the high watermark and the log is
/// collected while replicas are partitioned or down.
@Test func simulation_n4_harshNetworkSmallWindow_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 100, salt: 13)
    let failures = runSeeds("n=4 harsh", seeds: seeds) { seed in
        var options = SimulationOptions(seed: seed, validatorCount: 4, byzantine: behaviours(seed: seed, faulty: 1))
        options.byzantineFirst = seed % 2 == 0
        options.messageLossProbability = 0.2
        options.duplicateProbability = 0.1
        options.delayTicksMax = 8
        options.transactionCount = 12
        options.faultTicks = 200
        options.checkpointIntervalBlocks = 2
        options.watermarkWindowBlocks = 4
        options.blockTransactionsMax = 1
        return options
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}

/// The harsh network at n = 7 with two Byzantine validators.
@Test func simulation_n7_harshNetworkSmallWindow_agreementValidityLiveness() {
    let seeds = SeedPlan.seeds(default: 30, salt: 17)
    let failures = runSeeds("n=7 harsh", seeds: seeds) { seed in
        var options = SimulationOptions(seed: seed, validatorCount: 7, byzantine: behaviours(seed: seed, faulty: 2))
        options.byzantineFirst = seed % 2 == 0
        options.messageLossProbability = 0.2
        options.duplicateProbability = 0.1
        options.delayTicksMax = 8
        options.transactionCount = 12
        options.faultTicks = 200
        options.checkpointIntervalBlocks = 2
        options.watermarkWindowBlocks = 4
        options.blockTransactionsMax = 1
        return options
    }
    #expect(failures.isEmpty, "failing seeds: \(failures.map(\.seed))")
}
