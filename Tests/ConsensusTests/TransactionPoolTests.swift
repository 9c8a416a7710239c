import Consensus
import LedgerCore
import Testing

@Suite struct TransactionPoolTests {
    let cluster = Cluster()

    @Test func insert_keepsArrivalOrder_andRefusesDuplicates() {
        var pool = TransactionPool()
        let transactions = (0..<5).map { cluster.transaction($0) }
        for transaction in transactions.reversed() { #expect(pool.insert(transaction) == .added) }
        #expect(pool.insert(transactions[2]) == .alreadyPooled)
        #expect(pool.count == 5)
        #expect(pool.oldestFirst.map(\.id) == transactions.reversed().map(\.id))
        #expect(pool.bytes == transactions.reduce(0) { $0 + $1.encodedBytesBound })
    }

    @Test func bounds_byCountAndByBytes_leaveThePoolUnchanged() {
        let first = cluster.transaction(1)
        var byCount = TransactionPool(transactionsMax: 1, bytesMax: 1 << 20)
        #expect(byCount.insert(first) == .added)
        #expect(!byCount.hasRoom(for: cluster.transaction(2)))
        #expect(byCount.insert(cluster.transaction(2)) == .full)
        #expect(byCount.count == 1)

        var byBytes = TransactionPool(transactionsMax: 100, bytesMax: first.encodedBytesBound)
        #expect(byBytes.insert(first) == .added)
        let before = byBytes.version
        #expect(byBytes.insert(cluster.transaction(2)) == .full)
        #expect(byBytes.version == before, "a refused insertion changes nothing")
        #expect(byBytes.bytes == first.encodedBytesBound)
    }

    @Test func remove_freesRoom_changesTheVersion_andCompactsTheOrder() {
        var pool = TransactionPool()
        let transactions = (0..<200).map { cluster.transaction($0) }
        for transaction in transactions { pool.insert(transaction) }
        let before = pool.version
        #expect(pool.remove(transactions[0].id)?.id == transactions[0].id)
        #expect(pool.remove(transactions[0].id) == nil)
        #expect(pool.version != before)
        pool.remove(transactions[1..<150].map(\.id))
        #expect(pool.count == 50)
        #expect(pool.oldestFirst.map(\.id) == transactions[150...].map(\.id))
        #expect(pool.bytes == transactions[150...].reduce(0) { $0 + $1.encodedBytesBound })
        #expect(!pool.contains(transactions[3].id) && pool.contains(transactions[199].id))
        pool.remove(transactions.map(\.id))
        #expect(pool.isEmpty && pool.bytes == 0)
    }
}
