import ConsensusSimulator
import Consensus
import LedgerCore
import TestSupport
import Testing

/// A quiet network (no loss, no random faults) for scripted scenarios.
func quietOptions(seed: UInt64 = 7, validators: Int = 4, byzantine: [ByzantineBehavior] = []) -> SimulationOptions {
    var options = SimulationOptions(seed: seed, validatorCount: validators, byzantine: byzantine)
    options.partitions = false
    options.crashes = false
    options.messageLossProbability = 0
    options.duplicateProbability = 0
    options.delayTicksMax = 2
    return options
}

@Test func viewChange_primaryCrashes_nextViewCommitsPendingWork() {
    var simulation = Simulation(options: quietOptions())
    simulation.submit(number: 0, to: [0, 1, 2, 3])
    simulation.runTicks(3)
    // The primary has proposed; it dies before the block can commit everywhere.
    simulation.crash(0)
    simulation.submit(number: 1, to: [1, 2, 3])
    let done = simulation.run(until: 2000) { $0.committed([0, 1], at: [1, 2, 3]) }
    let result = simulation.report()
    expectPassed(result.passed ? [] : [result])
    #expect(done)
    #expect((simulation.replica(1)?.view ?? 0) >= 1)
}

@Test func viewChange_primaryIsolated_backupsMoveOn() {
    var simulation = Simulation(options: quietOptions(seed: 11))
    simulation.isolate([0])
    simulation.submit(number: 0, to: [1, 2, 3])
    let done = simulation.run(until: 2000) { $0.committed([0], at: [1, 2, 3]) }
    simulation.reconnect()
    let caughtUp = simulation.run(until: 2000) { $0.committed([0], at: [0, 1, 2, 3]) }
    let result = simulation.report()
    expectPassed(result.passed ? [] : [result])
    #expect(done && caughtUp)
}

@Test func equivocatingPrimary_nothingDiverges() {
    var conflicts = 0
    for seed in UInt64(0)..<30 {
        var options = quietOptions(seed: seed, byzantine: [.equivocate])
        options.byzantineFirst = true
        var simulation = Simulation(options: options)
        for number in 0..<6 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
        let done = simulation.run(until: 3000) { $0.committed(Array(0..<6), at: [1, 2, 3]) }
        let result = simulation.report()
        conflicts += (result.dropCounts[.conflictingVote] ?? 0) + (result.dropCounts[.invalidProposal] ?? 0)
        expectPassed(result.passed ? [] : [result])
        #expect(done, "seed \(seed): \(result)")
    }
    #expect(conflicts > 0, "the primary did send different blocks")
}

@Test func censoringPrimary_backupsRelayAndSuspectIt() {
    var options = quietOptions(seed: 3, byzantine: [.withholdProposals])
    options.byzantineFirst = true
    var simulation = Simulation(options: options)
    // The request reaches only backups; they relay it and their timers expose the primary (rule 9).
    simulation.submit(number: 0, to: [1])
    let done = simulation.run(until: 3000) { $0.committed([0], at: [1, 2, 3]) }
    let result = simulation.report()
    expectPassed(result.passed ? [] : [result])
    #expect(done)
    #expect((simulation.replica(1)?.view ?? 0) >= 1)
}

@Test func restartMidViewChange_doesNotEquivocate() {
    for seed in UInt64(0)..<20 {
        var options = quietOptions(seed: seed)
        options.messageLossProbability = 0.1
        var simulation = Simulation(options: options)
        for number in 0..<4 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
        simulation.runTicks(4)
        simulation.crash(0)
        // Work the dead primary cannot order: the backups' timers fire.
        for number in 4..<6 { simulation.submit(number: number, to: [1, 2, 3]) }
        // Replica 2 is a backup of view 1 (whose primary is replica 1).
        let changing = simulation.run(until: 1000) { $0.replica(2)?.changingTo != nil }
        #expect(changing, "seed \(seed)")
        simulation.crash(2)
        #expect(simulation.persisted(2)?.changingTo != nil, "seed \(seed): the view-change target is durable before the message leaves")
        simulation.runTicks(5)
        simulation.restart(2)
        let resumed = simulation.replica(2).map { $0.changingTo != nil || $0.view >= 1 } ?? false
        #expect(resumed, "seed \(seed): a restarted replica resumes its view change")
        simulation.restart(0)
        let done = simulation.run(until: 4000) { $0.committed(Array(0..<6), at: [0, 1, 2, 3]) }
        let result = simulation.report()
        // The simulator's checker fails the run if any honest replica signs two blocks for one (view, height).
        expectPassed(result.passed ? [] : [result])
        #expect(done, "seed \(seed): \(result)")
    }
}

@Test func stateTransfer_replicaMissed1000Blocks_catchesUp() async {
    await onComputeThread {
        var options = quietOptions(seed: 5)
        options.transactionCount = 1000
        options.blockTransactionsMax = 1
        options.checkpointIntervalBlocks = 10
        options.watermarkWindowBlocks = 20
        options.delayTicksMax = 1
        options.timing = ReplicaTiming(batchTicks: 0, viewChangeTimeoutTicks: 40, retransmitTicks: 6,
                                       timestampDriftMsMax: 60_000, viewChangeBackoffDoublingsMax: 3)
        var simulation = Simulation(options: options)
        simulation.crash(3)
        for number in 0..<1000 { simulation.submit(number: number, to: [0]) }
        let committed = simulation.run(until: 20_000) { $0.committedHeight(of: 0) >= 1000 }
        #expect(committed)
        #expect(simulation.committedHeight(of: 3) == 0)
        simulation.restart(3)
        let caughtUp = simulation.run(until: 5000) { $0.committedHeight(of: 3) >= 1000 }
        let result = simulation.report()
        expectPassed(result.passed ? [] : [result])
        #expect(caughtUp, "replica 3 reached \(simulation.committedHeight(of: 3))")
    }
}

@Test func silentReplicas_fSilentForever_restStillCommit() {
    for seed in UInt64(0)..<10 {
        var options = SimulationOptions(seed: seed, validatorCount: 7, byzantine: [.silent, .silent])
        options.byzantineFirst = seed % 2 == 0
        var simulation = Simulation(options: options)
        let result = simulation.run()
        expectPassed(result.passed ? [] : [result])
    }
}

@Test func realKeys_fourReplicasWithFaults_certificatesVerifyWithLedger() {
    for seed in UInt64(0)..<3 {
        var options = SimulationOptions(seed: seed, validatorCount: 4, byzantine: [.equivocate])
        options.realKeys = true
        options.byzantineFirst = true
        options.transactionCount = 5
        var simulation = Simulation(options: options)
        let result = simulation.run()
        // Every commit was checked with CommitCertificate.verify (secp256k1) by the simulator.
        expectPassed(result.passed ? [] : [result])
        #expect(result.committedHeight >= 2)
    }
}

@Test func executionMismatch_replicaReportsFaultAndStopsSigning() {
    var options = quietOptions(seed: 9)
    options.corruptExecution = [2]
    options.checkpointIntervalBlocks = 2
    options.blockTransactionsMax = 1
    var simulation = Simulation(options: options)
    for number in 0..<3 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
    _ = simulation.run(until: 1000) { $0.committed(Array(0..<3), at: [0, 1, 3]) }
    // Later blocks certify the roots of earlier ones; the checkpoint at height 2 certifies its root too.
    for number in 3..<6 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
    let done = simulation.run(until: 3000) { $0.committed(Array(0..<6), at: [0, 1, 3]) }
    simulation.runTicks(50)
    let result = simulation.report()
    expectPassed(result.passed ? [] : [result])
    #expect(done)
    let faults = result.faults[2] ?? []
    #expect(faults.contains { if case .stateRootMismatch = $0 { true } else { false } }, "\(faults)")
    #expect(simulation.replica(2)?.halted == true)
}

@Test func twins_twoCopiesOfThePrimary_equivocateButNothingDiverges() {
    var conflicts = 0
    for seed in UInt64(0)..<20 {
        var options = quietOptions(seed: seed, byzantine: [.twins])
        options.byzantineFirst = true
        options.delayTicksMax = 4
        var simulation = Simulation(options: options)
        // Each twin sees a different half of the requests, so their proposals differ.
        for number in 0..<6 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
        let done = simulation.run(until: 3000) { $0.committed(Array(0..<6), at: [1, 2, 3]) }
        let result = simulation.report()
        conflicts += (result.dropCounts[.conflictingPrePrepare] ?? 0) + (result.dropCounts[.conflictsWithOwnVote] ?? 0)
            + (result.dropCounts[.conflictingVote] ?? 0)
        expectPassed(result.passed ? [] : [result])
        #expect(done, "seed \(seed): \(result)")
    }
    #expect(conflicts > 0, "the twins did equivocate in some seed")
}

@Test func forgingPrimary_certifiesNothingTheLedgerCannotExecute() {
    var refused = 0
    for seed in UInt64(0)..<10 {
        var options = quietOptions(seed: seed, byzantine: [.forgeHeaders])
        options.byzantineFirst = true
        var simulation = Simulation(options: options)
        for number in 0..<6 { simulation.submit(number: number, to: [0, 1, 2, 3]) }
        let done = simulation.run(until: 3000) { $0.committed(Array(0..<6), at: [1, 2, 3]) }
        let result = simulation.report()
        refused += result.dropCounts[.invalidProposal] ?? 0
        expectPassed(result.passed ? [] : [result])
        #expect(done, "seed \(seed): \(result)")
    }
    #expect(refused > 0, "the primary did send forged headers")
}
