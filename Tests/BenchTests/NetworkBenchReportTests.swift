import Testing
@testable import Bench

/// The network benchmark reads each node's CPU time from its metrics (the
/// name is checked against the node's own exposition in NodeTests.MetricsTests).
@Suite struct NetworkBenchReportTests {
    @Test func cpuSeconds_isReadFromTheMetricsText_andEachNodesShareFollows() {
        let text = """
            # HELP consort_process_cpu_seconds CPU time the node process has used, user and system
            # TYPE consort_process_cpu_seconds gauge
            consort_process_cpu_seconds_total_other 9
            consort_process_cpu_seconds 12.5
            consort_height 40
            """
        #expect(NetworkBenchReport.cpuSeconds(inMetrics: text) == 12.5)
        #expect(NetworkBenchReport.cpuSeconds(inMetrics: "consort_height 40") == nil)
        var report = NetworkBenchReport()
        report.sendingSeconds = 10
        report.cpuSecondsAtStart = [1, 2, nil]
        report.cpuSecondsAtStop = [6, 2.5, 3]
        #expect(report.cpuPercents == [50, 5, nil])
        #expect(report.figures.contains { $0.name.contains("(50/5/-)") && $0.value == 55 })
    }
}
