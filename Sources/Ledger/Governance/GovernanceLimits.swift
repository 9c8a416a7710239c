import LedgerCore

/// Limits of the governance contract, like every contract's. Its records are
/// the core model's organizations and member keys, so each limit is the data
/// limit of what it holds.
public enum GovernanceLimits {
    /// Member keys one organization may hold.
    public static let memberKeysPerOrganizationMax = Limits.memberKeysMax
    /// Organizations the directory may list.
    public static let organizationsMax = Limits.organizationsMax
    /// Longest organization id in a call.
    public static let organizationIDBytesMax = Limits.identifierBytesMax
    /// Bytes of stored organization records whose decoded form is kept
    /// (``DecodedOrganizations``); the cache starts over beyond it.
    public static let decodedOrganizationsBytesMax = 16 * 1024 * 1024
}
