import StrataIO

/// A (distance, node) pair; lower distance is better.
struct Neighbor {
    var distance: Float
    var node: UInt32

    /// Total order: by distance, ties by node, so every build and search is deterministic.
    @inline(__always)
    static func precedes(_ a: Neighbor, _ b: Neighbor) -> Bool {
        a.distance < b.distance || (a.distance == b.distance && a.node < b.node)
    }
}

/// Which end of a `NeighborHeap` is on top (a type, so the comparison is
/// resolved at compile time in the search loops).
protocol NeighborHeapOrder {
    /// Whether `a` belongs above `b`.
    static func above(_ a: Neighbor, _ b: Neighbor) -> Bool
    static var worstOnTop: Bool { get }
}

/// The candidate queue: best on top.
enum BestOnTop: NeighborHeapOrder {
    @inline(__always) static func above(_ a: Neighbor, _ b: Neighbor) -> Bool { Neighbor.precedes(a, b) }
    static var worstOnTop: Bool { false }
}

/// The result list: worst on top, so it is the one evicted.
enum WorstOnTop: NeighborHeapOrder {
    @inline(__always) static func above(_ a: Neighbor, _ b: Neighbor) -> Bool { Neighbor.precedes(b, a) }
    static var worstOnTop: Bool { true }
}

/// A binary heap of `Neighbor`s on memory it owns (grows on demand).
struct NeighborHeap<Order: NeighborHeapOrder> {
    private(set) var storage: UnsafeMutablePointer<Neighbor>
    private(set) var capacity: Int
    private(set) var count = 0
    var worstOnTop: Bool { Order.worstOnTop }

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        self.storage = .allocate(capacity: self.capacity)
    }

    func deallocate() { storage.deallocate() }

    var isEmpty: Bool { count == 0 }
    var top: Neighbor { storage[0] }

    mutating func removeAll() { count = 0 }

    /// Whether `a` belongs above `b`.
    @inline(__always)
    private func above(_ a: Neighbor, _ b: Neighbor) -> Bool { Order.above(a, b) }

    @inline(__always)
    mutating func push(_ element: Neighbor) {
        if count == capacity { grow() }
        var index = count
        count += 1
        while index > 0 {
            let parent = (index - 1) >> 1
            guard above(element, storage[parent]) else { break }
            storage[index] = storage[parent]
            index = parent
        }
        storage[index] = element
    }

    @inline(__always)
    @discardableResult
    mutating func pop() -> Neighbor {
        let result = storage[0]
        count -= 1
        if count > 0 {
            let last = storage[count]
            var index = 0
            while true {
                let left = 2 * index + 1
                guard left < count else { break }
                let right = left + 1
                let child = right < count && above(storage[right], storage[left]) ? right : left
                guard above(storage[child], last) else { break }
                storage[index] = storage[child]
                index = child
            }
            storage[index] = last
        }
        return result
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Neighbor>.allocate(capacity: capacity * 2)
        bigger.update(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }

    /// The elements, best first (empties the heap).
    mutating func drainSorted() -> [Neighbor] {
        var result = [Neighbor](repeating: Neighbor(distance: 0, node: 0), count: count)
        if worstOnTop {
            var index = count
            while count > 0 { index -= 1; result[index] = pop() }
        } else {
            var index = 0
            while count > 0 { result[index] = pop(); index += 1 }
        }
        return result
    }
}

/// Per-search working memory: a visited set (generation stamps, so starting a
/// search is O(1)), the two heaps and gather buffers. One search at a time;
/// searches take one from `HNSWSearchScratch.pool`.
final class HNSWSearchScratch: @unchecked Sendable {
    // SAFETY: owns raw buffers that it mutates without a lock, so it must be
    // used by one thread at a time: a search takes it from `pool` and gives it
    // back when done (the pool's lock orders the accesses of successive
    // users), and a build gives each worker its own (Dispatch orders the
    // accesses before and after `concurrentPerform`).
    var visited: UnsafeMutablePointer<UInt32>
    var visitedCapacity: Int
    var stamp: UInt32 = 0
    var candidates: NeighborHeap<BestOnTop>
    var results: NeighborHeap<WorstOnTop>
    var gather: UnsafeMutablePointer<UInt32>
    var gatherDistances: UnsafeMutablePointer<Float>
    var gatherCapacity: Int

    init(nodeCount: Int, width: Int) {
        visitedCapacity = max(nodeCount, 1)
        visited = .allocate(capacity: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
        candidates = NeighborHeap(capacity: 256)
        results = NeighborHeap(capacity: 256)
        gatherCapacity = max(width, 64)
        gather = .allocate(capacity: gatherCapacity)
        gatherDistances = .allocate(capacity: gatherCapacity)
    }

    deinit {
        visited.deallocate()
        candidates.deallocate()
        results.deallocate()
        gather.deallocate()
        gatherDistances.deallocate()
    }

    /// Prepares for a search over `nodeCount` nodes with rows of up to `width`
    /// neighbours; returns the stamp that marks a node visited.
    func begin(nodeCount: Int, width: Int) -> UInt32 {
        if nodeCount > visitedCapacity {
            visited.deallocate()
            visitedCapacity = nodeCount
            visited = .allocate(capacity: nodeCount)
            visited.initialize(repeating: 0, count: nodeCount)
            stamp = 0
        }
        if width > gatherCapacity {
            gather.deallocate()
            gatherDistances.deallocate()
            gatherCapacity = width
            gather = .allocate(capacity: width)
            gatherDistances = .allocate(capacity: width)
        }
        if stamp == UInt32.max {
            visited.update(repeating: 0, count: visitedCapacity)
            stamp = 0
        }
        stamp += 1
        candidates.removeAll()
        results.removeAll()
        return stamp
    }

    /// Guards the scratch objects not in use, shared by all graphs (sized to
    /// the largest seen). An object in the pool has no user.
    private static let pool = Locked<[HNSWSearchScratch]>([])

    static func take(nodeCount: Int, width: Int) -> HNSWSearchScratch {
        pool.withLock { $0.popLast() } ?? HNSWSearchScratch(nodeCount: nodeCount, width: width)
    }

    static func give(_ scratch: HNSWSearchScratch) {
        pool.withLock { $0.append(scratch) }
    }
}
