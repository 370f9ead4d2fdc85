import CSwitchBench
import Glibc

/// Address translation cost (claim C5): a dependent pointer chase with one pointer per 4 KiB page,
/// pages in a random permutation, each pointer at a random cache line of its page (lmbench `tlb`),
/// over working sets from 8 to 65 536 pages, 6 points per octave (2 with --quick) and more inside
/// each knee found.
///
///   4k:      the pages are 4 KiB (MADV_NOHUGEPAGE): one translation per access.
///   2m:      the same walk over a 2 MiB-aligned MADV_HUGEPAGE region; granted huge pages are read
///            back from /proc/self/smaps. 512 walk pages share one 2 MiB translation.
///   control: the same number of cache lines packed side by side (64 per 4 KiB, in a huge-page
///            region when granted), visited in a random permutation: the same cache misses with
///            (almost) no TLB misses. 4k − control is the translation part.
///
/// The x axis of every variant is the number of 4 KiB-strided slots visited (`working_set_pages`).
/// 4k and control are measured interleaved point by point; 2m follows (one 256 MiB region at a time
/// keeps the peak RSS under 300 MiB). From the curves: knees (TLB levels), their reach and the extra
/// cost per access beyond each (`TLBAnalysis`). The first level's reach of each curve is not one
/// sweep's knee but the vote of 12 bisection searches spread over the rest of the run (`ReachVote`):
/// the host crowds this guest in phases, and one sweep meets one phase.
public struct TLBHarness: Harness {
    public init() {}
    public let info = HarnessInfo("tlb", claims: ["C5"],
                                  summary: "pointer chase over 8…65536 pages: TLB reach and miss cost, 4 KiB vs 2 MiB pages, cache-only control",
                                  mechanisms: [
        ("4k", "one pointer per 4 KiB page (MADV_NOHUGEPAGE), random page order, random line in the page"),
        ("2m", "the same walk on MADV_HUGEPAGE memory (granted huge pages verified in /proc/self/smaps)"),
        ("control", "as many cache lines packed into few pages, random order: cache misses without TLB misses")],
        op: "one dependent memory access", section: "tlb")
    /// Page walks and re-walks miss to shared caches and memory: a busy neighbour moves them (docs/busy-machines.md).
    public var neighbourSensitive: Bool { true }
    public static let nodeOption = HarnessOption("node", .index, example: "1",
        help: "NUMA node for the pages of the pointer chase (needs libnuma and more than one node).")
    public var declaredOptions: [HarnessOption] { [Self.nodeOption] }

    public static let minPages = 8
    public static let maxPages = 65_536

    /// 8 … 65 536 pages, `perOctave` points per octave (rounded, distinct).
    public static func sweep(from lo: Int = minPages, to hi: Int = maxPages, perOctave: Int) -> [Int] {
        var points: [Int] = []
        var k = 0
        while true {
            let v = Int((Double(lo) * pow(2, Double(k) / Double(perOctave))).rounded())
            if v > hi { break }
            if points.last != v { points.append(v) }
            k += 1
        }
        if points.last != hi { points.append(hi) }
        return points
    }

    /// Up to `count` integers strictly between lo and hi, evenly spaced in log scale.
    public static func refine(lo: Int, hi: Int, count: Int) -> [Int] {
        guard hi - lo > 1 else { return [] }
        let r = Double(hi) / Double(lo)
        var out: [Int] = []
        for i in 1...count {
            let v = Int((Double(lo) * pow(r, Double(i) / Double(count + 1))).rounded())
            if v > lo && v < hi && out.last != v { out.append(v) }
        }
        return out
    }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        let m = selectedMechanisms(options)
        guard !m.isEmpty else { return [] }
        return [CaseSpec(harness: id, mechanisms: m, placement: .sameCPU, tasks: 1)]
    }

    /// Per point: half the run's samples, each a twentieth as long (many points, one chain each;
    /// short samples are rarely hit by another task's time slice, and those that are are retaken).
    static func config(_ options: RunOptions) -> SamplerConfig {
        SamplerConfig(samples: max(3, options.sampler.samples / 2), warmup: 1,
                      minSampleNs: max(100_000, options.sampler.minSampleNs / 20))
    }

    /// First-level searches per curve (`ReachVote`): 12, 6 with --quick.
    static func searchCount(_ options: RunOptions) -> Int { options.quick ? 6 : 12 }

    /// One search step measures its two chains with 5 samples of ≥ 100 µs each: the step it tells
    /// apart (under vs past a quarter of the level's step) is far above that median's noise.
    static let searchConfig = SamplerConfig(samples: 5, warmup: 1, minSampleNs: 100_000)

    /// Where the searches look, from the sweep's first knee: half its reach (a crowded phase lowers
    /// a reach by less than half) to twice its first point past it (a second level lies far beyond).
    public static func searchBracket(_ k: Knee) -> (lo: Int, hi: Int) {
        (max(minPages, Int(k.lastBelow / 2)), min(maxPages, Int((2 * k.firstAbove).rounded())))
    }

    /// One search: bisection between lo (taken as inside the level) and hi (taken as past it) for
    /// the last working set whose extra cost stays at or under `limit` (lmbench `tlb` bisects the same way).
    public static func bisect(lo: Int, hi: Int, limit: Double, extra: (Int) throws -> Double) rethrows -> Int {
        var lo = lo, hi = hi
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try extra(mid) > limit { hi = mid } else { lo = mid }
        }
        return lo
    }

    /// A curve's searches: where they look, the extra cost that counts as past the level (a quarter
    /// of the sweep's first step above its lower level), one search after every `every` sweep points.
    struct SearchPlan {
        var bracket: (lo: Int, hi: Int)
        var limit: Double
        var every: Int
        var sinceLast = 0
        var readings: [Int] = []
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let variants = spec.mechanisms
        let cpu = context.allowedCPUs[0]
        let placement = try Self.nodePlacement(context.options.node)
        return try Affinity.pinned([cpu]) {
            let sweep = TLBSweep(spec: spec, context: context, cpu: cpu, placement: placement)
            return try sweep.run(variants)
        }
    }

    /// Where `--node` puts the sweep's memory: the node to bind to (nil: none), the row note and fact.
    /// With one NUMA node an unavailable node is a note; with several, an error.
    static func nodePlacement(_ n: Int?) throws -> (node: Int?, note: String, binding: NUMABinding?) {
        guard let n else { return (nil, "", nil) }
        if let why = NUMA.unavailableReason(node: n) {
            guard NUMA.nodeCount() < 2 else { throw SwitchBenchError.usage("--node \(n): \(why)") }
            return (nil, "--node \(n): \(why)", .unavailable(n))
        }
        return (n, "memory bound to NUMA node \(n) (libnuma)", .bound(n))
    }
}

/// Where the sweep's memory was placed when --node was given (a fact of every sweep row).
public enum NUMABinding: Sendable, Equatable {
    /// Bound to this node with libnuma.
    case bound(Int)
    /// The node was asked for but this machine cannot bind (one node, or no libnuma): local memory.
    case unavailable(Int)

    static let key = "numa_node"
    var token: String {
        switch self {
        case .bound(let n): return "bound:\(n)"
        case .unavailable(let n): return "unavailable:\(n)"
        }
    }

    /// The binding of a run's tlb rows; nil when --node was not given or not recorded (old CSV).
    public static func of(_ run: RunResult) -> NUMABinding? {
        guard let t = run.records(harness: "tlb").lazy.compactMap({ $0.fact(key) }).first else { return nil }
        let parts = t.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]) else { return nil }
        return parts[0] == "bound" ? .bound(n) : .unavailable(n)
    }
}

/// Whether the kernel backed the 2 MiB region with huge pages (AnonHugePages in /proc/self/smaps).
public enum HugeGrant: String, Sendable {
    case granted, partial, unverified
    static let key = "huge_pages"

    /// From a run's 2m rows; nil when not recorded (old CSV) or 2m did not run.
    public static func of(_ run: RunResult) -> HugeGrant? {
        run.records(harness: "tlb").lazy.filter { $0.mechanism == "2m" }.compactMap { $0.fact(key).flatMap(HugeGrant.init) }.first
    }
}

extension RunOptions {
    /// NUMA node for the tlb harness's memory (`--node`); nil: local.
    public var node: Int? {
        get { self[TLBHarness.nodeOption]?.first }
        set { self[TLBHarness.nodeOption] = newValue.map { [$0] } }
    }
}
