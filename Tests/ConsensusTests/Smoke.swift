import ConsensusSimulator
import Consensus
import Testing

@Test func simulation_fourReplicasNoFaults_commitsEverything() {
    var options = SimulationOptions(seed: 1, validatorCount: 4)
    options.partitions = false
    options.crashes = false
    options.messageLossProbability = 0
    options.duplicateProbability = 0
    var simulation = Simulation(options: options)
    let result = simulation.run()
    print(result)
    #expect(result.passed, "\(result)")
}

@Test func simulation_fourReplicasAllFaults_fewSeeds() {
    let failures = runSeeds("smoke", seeds: Array(0..<20)) { seed in
        SimulationOptions(seed: seed, validatorCount: 4, byzantine: [ByzantineBehavior.allCases[Int(seed) % ByzantineBehavior.allCases.count]])
    }
    #expect(failures.isEmpty)
}
