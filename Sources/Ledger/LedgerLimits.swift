/// Limits of storage and execution, units last; the data limits are ``Limits``.
public enum LedgerLimits {
    /// State-tree nodes kept in memory between blocks; the cache starts over when a block would pass it.
    public static let stateNodeCacheEntriesMax = 200_000
    /// Largest index block the store's integrity check decompresses.
    public static let storageIndexBlockBytesMax = 64 * 1024 * 1024
}
