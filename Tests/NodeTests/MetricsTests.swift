import Foundation
import Testing
import Consensus
@testable import Node

/// The metrics an operator alerts on, and the dashboard the project ships for them.
@Suite struct MetricsTests {
    static let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/grafana-dashboard.json")

    /// Every expression of every panel, as the dashboard file holds them.
    static func expressions() throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard)) as? [String: Any]
        let panels = try #require(json?["panels"] as? [[String: Any]])
        return panels.flatMap { panel in (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
    }

    @Test func everyMetricTheDashboardQueries_isOneTheNodeExports() throws {
        let metrics = NodeMetrics()
        metrics.dropped(DropReason.staleCheckpoint.rawValue)
        metrics.commitLatency.recordNanoseconds(1_000_000)
        metrics.committed(contract: "statements", operation: "postStatement", result: "success")
        metrics.answered(route: "/v1/status", statusCode: 200, nanoseconds: 1_000_000)
        let exported = Set(metrics.exposition().split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            line.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
        })
        let expressions = try Self.expressions()
        #expect(expressions.count >= 10)
        let pattern = try Regex("consort_[a-z_]+")
        var queried = Set<String>()
        for expression in expressions {
            for match in expression.matches(of: pattern) { queried.insert(String(expression[match.range])) }
        }
        #expect(!queried.isEmpty)
        for name in queried.sorted() { #expect(exported.contains(name), "the dashboard queries \(name), which the node does not export") }
        for alerted in ["consort_last_block_time_seconds", "consort_validators_reached", "consort_quorum", "consort_fault", "consort_view_changes_total"] {
            #expect(queried.contains(alerted), "the dashboard shows no \(alerted)")
        }
    }

    @Test func everyPanel_isAKnownPanelType_withATitleAndADescription() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dashboard)) as? [String: Any]
        let panels = try #require(json?["panels"] as? [[String: Any]])
        for panel in panels {
            let title = panel["title"] as? String ?? ""
            #expect(["timeseries", "stat", "table", "gauge"].contains(panel["type"] as? String ?? ""), "panel '\(title)' has type \(String(describing: panel["type"]))")
            #expect(!title.isEmpty)
            #expect(!(panel["description"] as? String ?? "").isEmpty, "panel '\(title)' says nothing of what it shows")
        }
    }

    @Test func committedTransactions_areCountedByContractOperationAndResult_withBoundedLabels() {
        let metrics = NodeMetrics()
        metrics.committed(contract: "statements", operation: "postStatement", result: "success")
        metrics.committed(contract: "statements", operation: "postStatement", result: "success")
        metrics.committed(contract: "statements", operation: "matchItems", result: "item_not_open")
        let text = metrics.exposition()
        #expect(text.contains(#"consort_transactions_total{contract="statements",operation="postStatement",result="success"} 2"#), "\(text)")
        #expect(text.contains(#"consort_transactions_total{contract="statements",operation="matchItems",result="item_not_open"} 1"#))
        for serial in 0..<(NodeMetrics.transactionLabelSetsMax + 10) {
            metrics.committed(contract: "c", operation: "o", result: "code_\(serial)")
        }
        let crowded = metrics.exposition()
        #expect(crowded.components(separatedBy: "consort_transactions_total{").count - 1 == NodeMetrics.transactionLabelSetsMax + 1)
        #expect(crowded.contains(#"consort_transactions_total{contract="other",operation="other",result="other"} 12"#))
    }

    @Test func apiAnswers_areTimedByRoute_andTheBuildIsLabelled() {
        let metrics = NodeMetrics()
        metrics.answered(route: "/v1/status", statusCode: 200, nanoseconds: 2_000_000)
        metrics.answered(route: "/v1/status", statusCode: 503, nanoseconds: 1_000_000)
        let text = metrics.exposition()
        #expect(text.contains(#"consort_api_request_duration_seconds_count{route="/v1/status",status="2xx"} 1"#), "\(text)")
        #expect(text.contains(#"consort_api_request_duration_seconds_count{route="/v1/status",status="5xx"} 1"#))
        #expect(text.contains(#"consort_build_info{version="\#(NodeMetrics.version)",protocol="\#(PeerLimits.protocolVersion)"} 1"#))
    }

    @Test func dropReasons_areLabelledInSnakeCase() {
        let metrics = NodeMetrics()
        metrics.dropped(DropReason.staleCheckpoint.rawValue, count: 3)
        metrics.dropped("gossip_nonce_too_low")
        let text = metrics.exposition()
        #expect(text.contains(#"consort_dropped_messages_total{reason="stale_checkpoint"} 3"#), "\(text)")
        #expect(text.contains(#"reason="gossip_nonce_too_low""#))
        for reason in DropReason.allCases { #expect(!NodeMetrics.snakeCase(reason.rawValue).contains { $0.isUppercase }, "\(reason)") }
    }

    #if os(Linux)
    @Test func processFigures_areReadAtEachScrape() {
        let text = NodeMetrics().exposition()
        for name in ["consort_process_resident_memory_bytes", "consort_process_open_fds", "consort_process_cpu_seconds"] {
            let value = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect((value ?? 0) > 0, "\(name) is \(String(describing: value))")
        }
    }
    #endif
}
