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
    expectPassed(result.passed ? [] : [result])
    #expect(result.committedHeight >= 3)
    #expect(result.viewChanges == 0)
}
