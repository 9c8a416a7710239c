/// Limits of storage and execution, units last; the data limits are ``Limits``.
public enum LedgerLimits {
    /// State-tree nodes in each of the node cache's two generations (`StateNodeCache`).
    public static let stateNodeCacheEntriesMax = 200_000
    /// Largest index block the store's integrity check decompresses.
    public static let storageIndexBlockBytesMax = 64 * 1024 * 1024
}
