import Foundation
import Testing
import Contracts
import LedgerCore
@testable import NodeCLI

/// The trace and `show --tree` draw a voucher's pieces as a tree.
@Suite struct ReceivableTreeTests {
    /// A piece as the API answers it, reduced to what the tree reads.
    private func piece(_ first: Int, _ last: Int, holder: String, status: String, parent: (Int, Int)?) -> String {
        let parentField = parent.map { #","parent":"PO-1:\#($0.0)-\#($0.1)""# } ?? ""
        return #"{"piece":"PO-1:\#(first)-\#(last)","voucher":"PO-1","first":\#(first),"last":\#(last),"amount":\#((last - first + 1) * 100),"#
            + #""holder":"\#(holder)","status":"\#(status)","frozen":false,"history":[]\#(parentField)}"#
    }

    @Test func pieces_areDrawnUnderTheirParent_inUnitOrder_whateverOrderTheyArriveIn() throws {
        let texts = [
            piece(1, 100, holder: "supplier1", status: "split", parent: nil),
            piece(1, 60, holder: "supplier1", status: "split", parent: (1, 100)),
            piece(61, 100, holder: "bankB", status: "financed", parent: (1, 100)),
            piece(1, 20, holder: "supplier2", status: "active", parent: (1, 60)),
            piece(21, 60, holder: "supplier3", status: "transfer_offered", parent: (1, 60)),
        ]
        let pieces = try JSONDecoder().decode([ReceivablePieceAnswer].self, from: Data("[\(texts.reversed().joined(separator: ","))]".utf8))
        let marked = try #require(ReceivablePieceID("PO-1:21-60"))
        let lines = ReceivableTree.lines(pieces, currency: "CNY", marked: marked)
        #expect(lines == [
            "PO-1:1-100  supplier1  100.00 CNY  split",
            "├─ PO-1:1-60  supplier1  60.00 CNY  split",
            "│  ├─ PO-1:1-20  supplier2  20.00 CNY  active",
            "│  └─ PO-1:21-60  supplier3  40.00 CNY  transfer_offered   ◀",
            "└─ PO-1:61-100  bankB  40.00 CNY  financed",
        ])
        // A piece whose parent is not in the answer is drawn as a root; currencies keep their own decimals.
        let partial = ReceivableTree.lines(pieces.filter { $0.first != 1 || $0.last != 100 }, currency: "JPY")
        #expect(partial == [
            "PO-1:1-60  supplier1  6000 JPY  split",
            "├─ PO-1:1-20  supplier2  2000 JPY  active",
            "└─ PO-1:21-60  supplier3  4000 JPY  transfer_offered",
            "PO-1:61-100  bankB  4000 JPY  financed",
        ])
    }

    @Test func pendingActions_areDrawnWithWhatTheyWouldDo() throws {
        let id = String(repeating: "ab", count: 32)
        let signer = try PrivateKey.generate().publicKey.hex
        let json = #"{"settings": {"autoAcceptTransfers": false, "makerChecker": true}, "actions": [{"id": "\#(id)", "organization": "s1", "#
            + #""operation": "offerTransfer", "status": "pending", "prepared": {"transaction": "\#(String(repeating: "cd", count: 32))", "#
            + #""organization": "s1", "signer": "\#(signer)", "height": 7, "timeMs": 1767225600000}, "#
            + #""details": [{"name": "piece", "value": "V1:1-1000"}, {"name": "amountMinor", "value": "400"}, {"name": "recipient", "value": "s2"}]}]}"#
        let answer = try JSONDecoder().decode(ReceivableActionsAnswer.self, from: Data(json.utf8))
        let text = renderPendingActions(answer.actions, organization: "s1")
        #expect(text.contains("\(id)  offerTransfer  pending\n  piece: V1:1-1000\n  amountMinor: 400\n  recipient: s2\n"), "\(text)")
        #expect(text.contains("prepared by s1 (key \(signer.prefix(16))…) at height 7, 2026-01-01T00:00:00Z"), "\(text)")
        #expect(renderPendingActions([], organization: "s1") == "no actions of s1 await approval\n")
        // With the voucher's currency known, the amount reads as a decimal of it.
        let priced = renderPendingActions(answer.actions, organization: "s1", currencies: ["V1": "CNY"])
        #expect(priced.contains("  piece: V1:1-1000\n  amount: 4.00 CNY\n  recipient: s2\n"), "\(priced)")
    }
}
