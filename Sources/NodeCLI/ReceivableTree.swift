import Contracts

/// A voucher's pieces drawn as a tree for a person: each piece under the
/// piece it was split from, siblings in unit order, with holder, amount,
/// status and financing.
enum ReceivableTree {
    /// The lines of the tree of `pieces` (any subset of one voucher's
    /// pieces); a piece whose parent is not among them is drawn as a root.
    /// `marked` is flagged as the piece asked about.
    static func lines(_ pieces: [ReceivablePieceAnswer], currency: String, marked: ReceivablePieceID? = nil) -> [String] {
        let ids = Set(pieces.map(\.piece))
        var children: [ReceivablePieceID: [ReceivablePieceAnswer]] = [:]
        var roots: [ReceivablePieceAnswer] = []
        for piece in pieces {
            if let parent = piece.parent, ids.contains(parent) {
                children[parent, default: []].append(piece)
            } else {
                roots.append(piece)
            }
        }
        var lines: [String] = []
        func draw(_ piece: ReceivablePieceAnswer, prefix: String, branch: String, continuation: String) {
            lines.append(prefix + branch + describe(piece, currency: currency) + (piece.piece == marked ? "   ◀" : ""))
            let below = (children[piece.piece] ?? []).sorted { $0.first < $1.first }
            for (index, child) in below.enumerated() {
                let last = index == below.count - 1
                draw(child, prefix: prefix + continuation, branch: last ? "└─ " : "├─ ", continuation: last ? "   " : "│  ")
            }
        }
        for root in roots.sorted(by: { $0.first < $1.first }) { draw(root, prefix: "", branch: "", continuation: "") }
        return lines
    }

    /// One piece: its units, holder, amount, status, and financing or freeze when it has them.
    static func describe(_ piece: ReceivablePieceAnswer, currency: String) -> String {
        var text = "\(piece.piece)  \(piece.holder)  \(amount(piece.amount, currency))  \(piece.status.rawValue)"
        if let financing = piece.financing {
            text += "  financed by \(financing.bank) at \(financing.discountRateBps) bps, fee \(amount(financing.fee, currency))"
        }
        if let offer = piece.offer, piece.status == .transferOffered || piece.status == .financingOffered { text += "  offered to \(offer.to)" }
        if piece.frozen { text += "  frozen" + (piece.freeze.map { " (\($0.reason))" } ?? "") }
        return text
    }

    /// Minor units as a decimal with the currency (`1250.00 CNY`).
    static func amount(_ minor: Int64, _ currency: String) -> String {
        "\(ISO4217.decimalString(minor, exponent: ISO4217.exponent(of: currency) ?? 2)) \(currency)"
    }
}
