import CSwitchBench
import Foundation

/// taskset-style CPU lists: "0-3,8", "1", "0,2-4".
public enum CPUList {
    public static func parse(_ text: String) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw SwitchBenchError.usage("empty CPU list; expected e.g. 0-3,8") }
        var cpus: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            func number(_ s: Substring) throws -> Int {
                let t = s.trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty, t.allSatisfy(\.isASCII), t.allSatisfy(\.isNumber), let v = Int(t), v < 8192 else {
                    throw SwitchBenchError.usage("bad CPU list '\(text)': '\(part)' is not a CPU number or range (expected e.g. 0-3,8)")
                }
                return v
            }
            switch bounds.count {
            case 1: cpus.append(try number(bounds[0]))
            case 2:
                let lo = try number(bounds[0]), hi = try number(bounds[1])
                guard lo <= hi else {
                    throw SwitchBenchError.usage("bad CPU list '\(text)': range '\(part)' runs backwards")
                }
                cpus.append(contentsOf: lo...hi)
            default:
                throw SwitchBenchError.usage("bad CPU list '\(text)': '\(part)' is not a CPU number or range (expected e.g. 0-3,8)")
            }
        }
        return cpus.orderedUnique()
    }

    /// The shortest taskset form: [0,1,2,3,8] → "0-3,8".
    public static func format(_ cpus: [Int]) -> String {
        let s = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(j > i ? "\(s[i])-\(s[j])" : "\(s[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

/// The calling thread's CPU affinity.
public enum Affinity {
    public static func current() -> [Int] {
        var buf = [Int32](repeating: 0, count: 1024)
        let n = sb_get_affinity(&buf, Int32(buf.count))
        return n > 0 ? buf.prefix(Int(n)).map(Int.init) : []
    }

    public static func set(_ cpus: [Int]) throws {
        let c = cpus.map(Int32.init)
        let r = sb_set_affinity(c, Int32(c.count))
        if r != 0 { throw SwitchBenchError.caseFailed("sched_setaffinity(\(CPUList.format(cpus))) failed: \(String(cString: strerror(-r)))") }
    }

    /// Runs body with the calling thread pinned to cpus, restoring the previous affinity after.
    public static func pinned<T>(_ cpus: [Int], _ body: () throws -> T) throws -> T {
        let saved = current()
        if !cpus.isEmpty { try set(cpus) }
        defer { if !saved.isEmpty { try? set(saved) } }
        return try body()
    }
}

/// CPU topology from /sys: which CPUs share a core (SMT), a last-level cache, a NUMA node.
public struct Topology: Sendable {
    public struct CPU: Sendable {
        public var id: Int
        public var core: [Int]        // SMT siblings, itself included
        public var llc: [Int]         // CPUs sharing the last-level cache
        public var node: Int
    }
    public var cpus: [Int: CPU]

    public static func read(root: String = "/") -> Topology {
        func file(_ p: String) -> String? {
            (try? String(contentsOfFile: root + p, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let online = (file("sys/devices/system/cpu/online")).flatMap { try? CPUList.parse($0) } ?? Affinity.current()
        var nodeOf: [Int: Int] = [:]
        let nodeDir = root + "sys/devices/system/node"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: nodeDir)) ?? [] where name.hasPrefix("node") {
            guard let n = Int(name.dropFirst(4)), let list = file("sys/devices/system/node/\(name)/cpulist"),
                  let cpus = try? CPUList.parse(list) else { continue }
            for c in cpus { nodeOf[c] = n }
        }
        var result: [Int: CPU] = [:]
        for id in online {
            let base = "sys/devices/system/cpu/cpu\(id)"
            let core = file(base + "/topology/thread_siblings_list").flatMap { try? CPUList.parse($0) } ?? [id]
            var llc = [id]
            var bestLevel = -1
            for idx in 0..<8 {
                guard let level = file(base + "/cache/index\(idx)/level").flatMap(Int.init) else { continue }
                if level > bestLevel, let shared = file(base + "/cache/index\(idx)/shared_cpu_list").flatMap({ try? CPUList.parse($0) }) {
                    bestLevel = level
                    llc = shared
                }
            }
            result[id] = CPU(id: id, core: core, llc: llc, node: nodeOf[id] ?? 0)
        }
        return Topology(cpus: result)
    }

    /// How two CPUs relate, nearest first.
    public func relation(_ a: Int, _ b: Int) -> String {
        guard let ca = cpus[a] else { return "unknown" }
        if ca.core.contains(b) { return "SMT siblings" }
        if ca.llc.contains(b) { return "same LLC" }
        if let cb = cpus[b], cb.node != ca.node { return "other NUMA node" }
        return "different LLC"
    }

    /// Every kind of cross-CPU pair this machine offers, nearest first: for each relation to the first
    /// allowed CPU (SMT sibling, same LLC, different LLC, other NUMA node) that some allowed CPU has,
    /// the CPU per task (the first CPU, then CPUs of that relation, wrapping around).
    public func crossPlacements(tasks count: Int, allowed: [Int]) -> [(cpus: [Int], relation: String)] {
        guard let first = allowed.first else { return [] }
        var result: [(cpus: [Int], relation: String)] = []
        for rel in ["SMT siblings", "same LLC", "different LLC", "other NUMA node"] {
            let partners = allowed.dropFirst().filter { relation(first, $0) == rel }.sorted()
            guard !partners.isEmpty else { continue }
            let order = [first] + partners
            result.append(((0..<count).map { order[$0 % order.count] }, rel))
        }
        return result
    }

    /// For cross-cpu cases: `count` distinct CPUs from `allowed`, starting at `first`, preferring an
    /// SMT sibling, then a CPU sharing the LLC, then another NUMA node (a task count above the CPUs
    /// available wraps around). Returns the CPU per task and how the first two relate.
    public func crossPlacement(tasks count: Int, allowed: [Int]) -> (cpus: [Int], relation: String) {
        guard let first = allowed.first else { return ([], "none") }
        var rest = allowed.dropFirst().map { $0 }
        func rank(_ c: Int) -> Int {
            switch relation(first, c) {
            case "SMT siblings": return 0
            case "same LLC": return 1
            case "other NUMA node": return 2
            default: return 3
            }
        }
        rest.sort { (rank($0), $0) < (rank($1), $1) }
        let order = [first] + rest
        let cpus = (0..<count).map { order[$0 % order.count] }
        return (cpus, order.count > 1 ? relation(order[0], order[1]) : "only one CPU")
    }
}
