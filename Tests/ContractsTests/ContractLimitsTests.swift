import ConsortTesting
@testable import Contracts
import Ledger
import LedgerCore
import Testing

/// How each contract's limits relate to the ledger's data limits: whatever a
/// contract lets a call carry or a record hold must fit in a transaction, a
/// receipt and a state entry.
@Suite struct ContractLimitsTests {
    @Test func blacklist_batchesFitAReceipt_andTheirDecodingBound() {
        #expect(BlacklistLimits.batchSubjectsParameterMax <= UInt32(BlacklistLimits.batchSubjectsDecodeMax))
        #expect(Int(BlacklistLimits.batchSubjectsParameterMax) <= Limits.eventsPerReceiptMax, "each matched subject yields one event")
        #expect(BlacklistLimits.institutionsPerEntryMax <= Limits.organizationsMax)
        #expect(BlacklistLimits.textBytesMax + BlacklistLimits.codeBytesMax <= Limits.callArgumentsBytesMax)
        #expect(BlacklistLimits.codesMax * BlacklistLimits.codeBytesMax <= Limits.stateValueBytesMax, "the genesis parameters are one state value")
    }

    @Test func statements_keysFitTheStateTree_andAmountsStayInsideInt64() {
        #expect(StatementsLimits.escapedIdentifierBytesMax >= StatementsLimits.identifierBytesMax)
        // The longest open-item key: the longest account scope registration admits (bank and number, escaped) and item id,
        // under the contract's namespace.
        let account = String(repeating: "/", count: (StatementsLimits.escapedIdentifierBytesMax - 1) / 3) + "a"
        #expect(StatementsContract.part(account).utf8.count == StatementsLimits.escapedIdentifierBytesMax)
        #expect(StatementsLimits.reasonBytesMax <= StatementsLimits.narrativeBytesMax, "a correction's reason is its reversing entry's memo")
        #expect(2 * StatementsLimits.identifierBytesMax + 64 <= StatementsLimits.reasonBytesMax,
                "a dissolution note naming an entry and a correction, or two statements, fits a note's reason")
        let itemID = String(repeating: "i", count: StatementsLimits.matchItemIDBytesMax)
        let index = OpenItemIndex(state: MemoryStatementsState(), account: account)
        let key = namespacedKey(StatementsContract.name, index.openKey(.bank, itemID))
        #expect(key.count <= Limits.stateKeyBytesMax, "an open item's key holds its account and its item id")
        #expect(StatementsLimits.amountMinorMax <= Int64.max / 2, "a difference of two amounts cannot overflow")
        #expect(StatementsLimits.groupsPerAmountDayMax * (StatementsLimits.nameBytesMax + StatementsLimits.matchItemIDBytesMax + 64) + 128
                <= StatementsLimits.cachedAmountGroupBytesMax, "the index's cache holds the fullest amount day")
        #expect(StatementsLimits.eventReasonCharactersMax * 4 <= Limits.eventValueBytesMax, "a reason's event part fits an event value")
        #expect(StatementsLimits.statusItemsListedMax <= StatementsLimits.reportItemsListedMax)
        #expect(StatementsLimits.queryRecordsListedMax <= StatementsLimits.reportStatementsReadMax
                && StatementsLimits.reportStatementsReadMax <= StatementsLimits.reportItemsReadMax)
        #expect(StatementsLimits.referencesPerItemMax * StatementsLimits.referenceBytesMax <= Limits.stateValueBytesMax)
        #expect(StatementsLimits.reportBalancesMax * (StatementsLimits.balanceCodeBytesMax + 32) <= Limits.callArgumentsBytesMax)
        #expect(StatementsLimits.mt940FileBytesMax <= StatementsLimits.camtFileBytesMax,
                "a tag-and-line file is smaller than the same statement in XML")
    }

    @Test func clearing_andReceivables_amountsAndLinesFitTheirRecords() {
        #expect(ClearingLimits.amountMinorCeiling <= UInt64(Int64.max) / 2)
        #expect(ReceivablesLimits.amountMax <= UInt64(Int64.max) / 2)
        #expect(ClearingLimits.queryResultsDefault <= ClearingLimits.queryResultsMax)
        #expect(ClearingLimits.paymentIDBytesMax + ClearingLimits.accountBytesMax + ClearingLimits.channelBytesMax <= Limits.stateKeyBytesMax)
        #expect(ReceivablesLimits.voucherIDBytesMax + 64 <= Limits.stateKeyBytesMax, "a piece key holds the voucher id and its range")
    }
}
