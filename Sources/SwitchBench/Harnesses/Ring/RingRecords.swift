import CSwitchBench
import Glibc

/// The ring's rows: the IPC it subtracts (one hand-off in one task, no switch) and the records of a
/// case, with the switch-count and placement checks that make a row valid.
extension TokenRingHarness {
    /// What the `ipc_overhead` row of a mechanism timed.
    static func ipcNote(_ mechanism: String) -> String {
        switch mechanism {
        case "pipe": return "write+read of one byte on one pipe, one task, no switch"
        case "yield": return "sched_yield() with nothing else runnable on the CPU (no switch), one task"
        default: return "FUTEX_WAKE with no waiter + FUTEX_WAIT that returns at once, one task, no switch"
        }
    }

    /// One hand-off without a switch, in one task: write+read on one pipe, or a futex wake with no
    /// waiter plus a wait that returns at once (the value already changed). lmbench subtracts the same.
    static func measureIPC(_ mech: Mechanism, config: SamplerConfig, word: UnsafeMutablePointer<UInt32>) throws -> Measured {
        switch mech {
        case .pipe:
            var p: [Int32] = [0, 0]
            guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
            defer { close(p[0]); close(p[1]) }
            let r = p[0], w = p[1]
            var byte: UInt8 = 0
            return try Sampler.run(config) { k in
                for _ in 0..<k {
                    guard sb_sys_write(w, &byte, 1) == 1, sb_sys_read(r, &byte, 1) == 1 else {
                        throw SwitchBenchError.caseFailed("pipe write/read failed: \(errnoText(errno))")
                    }
                }
            }
        case .yield:
            // sched_yield() with nothing else runnable on this CPU: a system call and a pass of the
            // scheduler that picks this thread again (no switch), plus the token's store and load.
            return try Sampler.run(config) { k in
                for _ in 0..<k {
                    sb_store_release(word, 1)
                    sched_yield()
                    if sb_load_acquire(word) != 0 { sb_store_release(word, 0) }
                }
            }
        case .futex:
            return try Sampler.run(config) { k in
                for _ in 0..<k {
                    sb_store_release(word, 1)
                    _ = sb_futex_wake(word, 1, 1)
                    _ = sb_futex_wait(word, 0, 0, 1)   // returns -EAGAIN: word is 1 (untimed, as the ring waits)
                    sb_store_release(word, 0)
                }
            }
        }
    }

    func makeRecords(spec: CaseSpec, n: Int, taskCPUs: [Int], placementNote: String, measured: Measured,
                     ipc: Measured, touch: Measured?, counter: SwitchCounter,
                     cpuSeen: [(Int32, Int32)]) -> [Record] {
        let expected = Double(n)
        let spo = measured.switchesPerOp
        var problems: [String] = []
        if let spo {
            if abs(spo - expected) / expected > 0.10 {
                problems.append(String(format: "kernel counted %.2f switches per round trip, expected %.0f", spo, expected))
            }
        } else {
            problems.append("switches not counted")
        }
        // Placement proof: every task ran where it was pinned, at start and at end.
        if !taskCPUs.isEmpty {
            for (i, seen) in cpuSeen.enumerated() where Int(seen.0) != taskCPUs[i] || Int(seen.1) != taskCPUs[i] {
                problems.append("task \(i) ran on CPU \(seen.0)/\(seen.1), pinned to \(taskCPUs[i])")
            }
        }
        // And what the tasks reported: a cross-cpu row whose tasks all ran on one CPU measured nothing
        // of what its name says.
        let seenCPUs = Set(cpuSeen.flatMap { [$0.0, $0.1] }.filter { $0 >= 0 })
        if spec.placement == .crossCPU && seenCPUs.count < 2 {
            problems.append("cross-cpu, but every task ran on CPU \(seenCPUs.map { String($0) }.sorted().joined(separator: ","))")
        }
        let seenText = cpuSeen.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)/\($0.1)" }.joined(separator: ",")
        let ipcMedian = Statistics(ipc.perOp).median
        let touchMedian = touch.map { Statistics($0.perOp).median } ?? 0

        func record(_ metric: String, _ values: [Double], note: String = "", switchRow: Bool = true,
                    sampled: Measured? = nil) -> Record {
            let sampled = sampled ?? measured
            let ops = sampled.opsPerSample
            var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue,
                           cpus: taskCPUs, tasks: n, footprintBytes: spec.footprint,
                           metric: metric, samples: values, opsPerSample: ops,
                           switchesPerOp: switchRow ? spo : nil, expectedSwitchesPerOp: switchRow ? expected : nil,
                           counterSource: switchRow ? counter.source : "", cpusSeen: seenText)
            if !placementNote.isEmpty { r.addNote(placementNote) }
            if n > taskCPUs.count, spec.placement == .crossCPU, Set(taskCPUs).count < n { r.addNote("\(n) tasks share \(Set(taskCPUs).count) CPUs") }
            if !note.isEmpty { r.addNote(note) }
            if switchRow { for p in problems { r.invalidate(p) } }
            r.applySampling(sampled)
            return r
        }
        let perOp = measured.perOp
        var rows = [
            record("round_trip", perOp, note: n > 2 ? "one lap of a ring of \(n) tasks, SCHED_BATCH (no wakeup preemption)" : ""),
            record("per_switch", perOp.map { $0 / Double(n) }, note: "round trip / \(n)"),
            record("net_switch", perOp.map { $0 / Double(n) - ipcMedian - touchMedian },
                   note: String(format: "round trip / %d − IPC hop %.1f ns", n, ipcMedian)
                       + (touch != nil ? String(format: " − footprint touch %.1f ns", touchMedian) : "")),
            record("ipc_overhead", ipc.perOp, note: Self.ipcNote(spec.mechanism),
                   switchRow: false, sampled: ipc),
        ]
        if let touch {
            rows.append(record("touch_overhead", touch.perOp, note: "reading one byte per cache line of \(spec.footprint) bytes, warm, no switch",
                               switchRow: false, sampled: touch))
        }
        return rows
    }
}
