import CSwitchBench
import Foundation

/// An anonymous mapping for page walks: 4 KiB pages (MADV_NOHUGEPAGE), transparent huge pages
/// (MADV_HUGEPAGE on a 2 MiB-aligned region) or MAP_SHARED (seen by forked children).
/// Every page is written once when made, so the walks never fault.
public final class PageRegion {
    public enum Backing: String, Sendable {
        case small, huge, shared
    }

    public static let smallPage = 4096
    public static let hugePage = 2 << 20

    /// Start of the usable region (2 MiB-aligned for `huge`).
    public let base: UnsafeMutableRawPointer
    public let bytes: Int
    public let backing: Backing
    private let mapBase: UnsafeMutableRawPointer
    private let mapBytes: Int

    /// - dontFork: MADV_DONTFORK, so a fork neither copies it nor write-protects its pages.
    public init(bytes: Int, backing: Backing, dontFork: Bool = false, node: Int? = nil) throws {
        let align = backing == .huge ? PageRegion.hugePage : PageRegion.smallPage
        let size = (bytes + align - 1) / align * align
        let mapSize = backing == .huge ? size + align : size
        let flags = (backing == .shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS
        guard let p = mmap(nil, mapSize, PROT_READ | PROT_WRITE, flags, -1, 0), p != MAP_FAILED else {
            throw SwitchBenchError.caseFailed("mmap of \(mapSize) bytes failed: \(errnoText(errno))")
        }
        mapBase = p
        mapBytes = mapSize
        let addr = UInt(bitPattern: p)
        let aligned = (addr + UInt(align) - 1) / UInt(align) * UInt(align)
        base = UnsafeMutableRawPointer(bitPattern: aligned)!
        self.bytes = size
        self.backing = backing
        switch backing {
        case .huge: _ = madvise(base, size, 14 /* MADV_HUGEPAGE */)
        case .small: _ = madvise(base, size, 15 /* MADV_NOHUGEPAGE */)
        case .shared: break
        }
        if dontFork { _ = madvise(base, size, 10 /* MADV_DONTFORK */) }
        if let node { try NUMA.bind(base, bytes: size, node: node) }
        // Fault every page in now (a write, so each is a real page, not the shared zero page).
        var off = 0
        while off < size {
            base.storeBytes(of: 1, toByteOffset: off, as: UInt8.self)
            off += PageRegion.smallPage
        }
    }

    deinit { munmap(mapBase, mapBytes) }

    /// Bytes of this region the kernel backs with transparent huge pages (AnonHugePages, or
    /// ShmemPmdMapped for a shared mapping, summed over /proc/self/smaps entries that overlap it);
    /// nil when smaps is unreadable.
    public func hugeBytes() -> Int? {
        guard let text = readProcFile("/proc/self/smaps") else { return nil }
        let start = UInt(bitPattern: base)
        return Smaps.hugeBytes(in: text, start: start, end: start + UInt(bytes))
    }
}

/// Reading /proc/<pid>/smaps.
public enum Smaps {
    /// Sum of AnonHugePages (+ ShmemPmdMapped) in bytes over the mappings that overlap [start, end);
    /// nil when no mapping overlaps.
    public static func hugeBytes(in text: String, start: UInt, end: UInt) -> Int? {
        var total = 0
        var inside = false
        var found = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let range = mappingRange(line) {
                inside = range.lo < end && range.hi > start
                found = found || inside
                continue
            }
            guard inside else { continue }
            if line.hasPrefix("AnonHugePages:") || line.hasPrefix("ShmemPmdMapped:") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, let kb = Int(parts[1]) {
                    let unit = parts.count >= 3 ? parts[2].lowercased() : "kb"
                    total += kb * (unit == "mb" ? 1 << 20 : 1024)
                }
            }
        }
        return found ? total : nil
    }

    /// "7f12a0000000-7f12a4000000 rw-p 00000000 00:00 0   [path]" → the range; nil for a field line.
    static func mappingRange(_ line: Substring) -> (lo: UInt, hi: UInt)? {
        guard let first = line.split(separator: " ", maxSplits: 1).first, let dash = first.firstIndex(of: "-"),
              let lo = UInt(first[first.startIndex..<dash], radix: 16),
              let hi = UInt(first[first.index(after: dash)...], radix: 16) else { return nil }
        return (lo, hi)
    }
}

/// A pointer chase through memory: one pointer per slot (a 4 KiB page, or a cache line for the
/// control), slots in a random permutation, each pointer at a random cache line inside its slot
/// (lmbench `tlb`). Each load's address comes from the previous load, so the walk is a dependent
/// chain that no prefetcher can run ahead of.
public enum PageChain {
    public static let line = 64

    /// Writes a cyclic chain through `count` slots of `stride` bytes from `base` and returns its start.
    /// - linesPerSlot: the pointer goes at a random line among the slot's first linesPerSlot lines.
    @discardableResult
    public static func build(base: UnsafeMutableRawPointer, count: Int, slotBytes: Int, linesPerSlot: Int,
                             rng: inout SplitMix64) -> UnsafeRawPointer {
        precondition(count >= 1)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        let addresses = order.map { slot in
            base + slot * slotBytes + Int(rng.next() % UInt64(max(linesPerSlot, 1))) * line
        }
        for k in 0..<count {
            addresses[k].storeBytes(of: UnsafeRawPointer(addresses[(k + 1) % count]), as: UnsafeRawPointer.self)
        }
        return UnsafeRawPointer(addresses[0])
    }

    /// Follows the chain n times from p and returns where it stopped: n dependent loads.
    @inline(never)
    public static func chase(_ p: UnsafeRawPointer, _ n: Int) -> UnsafeRawPointer {
        var q = p
        var i = n
        while i > 0 {
            q = q.load(as: UnsafeRawPointer.self)
            i -= 1
        }
        return q
    }
}

/// A small, seedable generator (SplitMix64) so a chain's layout can be reproduced.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// libnuma, loaded with dlopen (libnuma.so.1) so the build needs no libnuma-dev.
public enum NUMA {
    /// Configured nodes (/sys/devices/system/node), 1 when unknown.
    public static func nodeCount() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/node")) ?? []
        return max(1, names.filter { $0.hasPrefix("node") && Int($0.dropFirst(4)) != nil }.count)
    }

    /// Why --node cannot apply here, or nil when it can.
    public static func unavailableReason(node: Int) -> String? {
        let n = nodeCount()
        if n < 2 { return "n/a: one NUMA node here" }
        if node >= n { return "node \(node) does not exist (nodes 0–\(n - 1))" }
        if sb_numa_available() != 0 { return "libnuma.so.1 not loadable or numa_available() < 0" }
        return nil
    }

    /// numa_tonode_memory on the region (before it is touched).
    static func bind(_ p: UnsafeMutableRawPointer, bytes: Int, node: Int) throws {
        if let why = unavailableReason(node: node) { throw SwitchBenchError.caseFailed("--node \(node): \(why)") }
        guard sb_numa_tonode_memory(p, bytes, Int32(node)) == 0 else {
            throw SwitchBenchError.caseFailed("--node \(node): numa_tonode_memory failed")
        }
    }
}
