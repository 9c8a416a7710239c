/// The latest `capacity` samples of a measurement (older ones are dropped),
/// with how many were ever recorded, and their nearest-rank percentiles:
/// the one percentile definition every report of the project uses.
public struct SampleWindow: Sendable, Equatable {
    /// Most samples kept.
    public let capacity: Int
    /// Samples recorded since creation, kept or not.
    public private(set) var count = 0
    /// The kept samples; once full, `next` is where the oldest one is overwritten.
    private var ring: [UInt64] = []
    private var next = 0

    /// An empty window keeping at most `capacity` samples (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds one sample, dropping the oldest one kept when the window is full.
    public mutating func record(_ value: UInt64) {
        count += 1
        if ring.count < capacity {
            ring.append(value)
        } else {
            ring[next] = value
            next = (next + 1) % capacity
        }
    }

    /// The kept samples, oldest first.
    public var samples: [UInt64] {
        Array(ring[next...] + ring[..<next])
    }

    /// The nearest-rank `percent` percentile (1 to 100) of the kept samples; nil when there are none.
    public func percentile(_ percent: Int) -> UInt64? {
        Self.nearestRank(ring.sorted(), percent: Double(percent))
    }

    /// The smallest of the ascending `sorted` samples with at least `percent`
    /// percent of them at or below it (`percent` clamped to 0…100); nil when empty.
    public static func nearestRank<Sample>(_ sorted: [Sample], percent: Double) -> Sample? {
        guard !sorted.isEmpty else { return nil }
        let clamped = min(max(percent, 0), 100)
        let rank = Int((clamped / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
