import CSwitchBench
import Foundation
import Glibc

/// The pollution harness's memory: A's pages (4 KiB, not inherited by the child: a fork would
/// write-protect them), B's pages (shared, so chains the parent builds later are seen by the child)
/// and the control block (`PollutionHarness.Control`, one cache line per word) with an idle futex word.
final class PollutionMemory {
    let regionA: PageRegion
    let regionB: PageRegion
    let shared: PageRegion
    let control: PollutionHarness.Control
    let idleWord: UnsafeMutablePointer<UInt32>

    init(maxPages: Int) throws {
        let page = PageRegion.smallPage
        regionA = try PageRegion(bytes: maxPages * page, backing: .small, dontFork: true)
        regionB = try PageRegion(bytes: maxPages * page, backing: .shared)
        shared = try PageRegion(bytes: page, backing: .shared)
        memset(shared.base, 0, page)
        let base = shared.base
        func at<T>(_ line: Int, _: T.Type) -> UnsafeMutablePointer<T> { (base + 64 * line).assumingMemoryBound(to: T.self) }
        control = .init(wordA: at(0, UInt32.self), wordProcess: at(1, UInt32.self), wordThread: at(2, UInt32.self),
                        stop: at(3, UInt32.self), chainStart: at(4, UInt.self), chainSteps: at(5, Int.self),
                        tids: at(6, Int32.self))
        idleWord = at(7, UInt32.self)
    }
}

/// Task B as a process and as a thread (the kinds asked for), both pinned to A's CPU, both idle in
/// FUTEX_WAIT until A wakes one (`PollutionHarness.serveB`). `stop` ends and reaps both.
final class TaskB {
    let control: PollutionHarness.Control
    var childPID: pid_t = -1
    var thread: pthread_t? = nil
    let threadArg: UnsafeMutablePointer<(PollutionHarness.Control, Int32)>

    init(kinds: [PollutionHarness.Kind], control: PollutionHarness.Control, cpu: Int) throws {
        self.control = control
        threadArg = .allocate(capacity: 1)
        threadArg.initialize(to: (control, Int32(cpu)))
        do {
            try start(kinds, cpu: cpu)
        } catch {
            stop()
            throw error
        }
    }

    private func start(_ kinds: [PollutionHarness.Kind], cpu: Int) throws {
        if kinds.contains(.process) {
            let pid = fork()
            if pid < 0 { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
            if pid == 0 {
                _ = sb_set_parent_death_signal()
                PollutionHarness.serveB(control, word: control.wordProcess, cpu: Int32(cpu), slot: 0)
                _exit(0)
            }
            sb_track_child(pid)
            childPID = pid
        }
        if kinds.contains(.thread) {
            var t = pthread_t()
            let r = pthread_create(&t, nil, { raw in
                let a = raw!.assumingMemoryBound(to: (PollutionHarness.Control, Int32).self).pointee
                PollutionHarness.serveB(a.0, word: a.0.wordThread, cpu: a.1, slot: 1)
                return nil
            }, threadArg)
            if r != 0 { throw SwitchBenchError.caseFailed("pthread_create failed: \(errnoText(r))") }
            thread = t
        }
        // Wait until each B has started (wrote its tid), so its status file exists.
        let deadline = monotonicNanoseconds() + 2_000_000_000
        while (kinds.contains(.process) && control.tids[0] == 0) || (kinds.contains(.thread) && control.tids[1] == 0) {
            if monotonicNanoseconds() > deadline { throw SwitchBenchError.caseFailed("task B did not start within 2 s") }
            usleep(1000)
        }
    }

    /// The switch counts of A (this thread) and of each B.
    func tally() -> SwitchTally {
        var tally = SwitchTally()
        tally.add("/proc/self/task/\(sb_gettid())/status")
        if childPID > 0 { tally.add("/proc/\(childPID)/status") }
        if thread != nil { tally.add("/proc/self/task/\(control.tids[1])/status") }
        return tally
    }

    /// Throws when the process B has died.
    func checkAlive() throws {
        if childPID > 0, waitpid(childPID, nil, WNOHANG) == childPID {
            sb_untrack_child(childPID)
            childPID = -1
            throw SwitchBenchError.caseFailed("task B (process) died during the run")
        }
    }

    func stop() {
        sb_store_release(control.stop, 1)
        for w in [control.wordProcess, control.wordThread] { sb_store_release(w, 1); _ = sb_futex_wake(w, 1, 1) }
        if childPID > 0 {
            var status: Int32 = 0
            if waitpid(childPID, &status, 0) < 0 { kill(childPID, SIGKILL); waitpid(childPID, &status, 0) }
            sb_untrack_child(childPID)
            childPID = -1
        }
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    deinit { threadArg.deallocate() }
}

/// The reps of every case at one W, interleaved (case order rotates with the rep): A walks its chain
/// warm, the case happens (a switch to B, none, or a flush), A's first re-walk and a warm walk are timed.
/// A rep whose switch counts moved other than as planned is taken again (`Sampler.retakeFactor` × reps).
struct PollutionReps {
    /// What one case at one W gathered.
    struct Cell {
        var penalties: [Double] = []
        var warm: [Double] = []
        var retaken = 0
        var exhausted = false
        var switches: (total: UInt64, reps: Int) = (0, 0)
    }

    let memory: PollutionMemory
    let b: TaskB
    let reps: Int
    var tally: SwitchTally
    var rng = SplitMix64(seed: 0xB011_0710)

    init(memory: PollutionMemory, b: TaskB, reps: Int) {
        self.memory = memory
        self.b = b
        self.reps = reps
        tally = b.tally()
    }

    mutating func measure(_ w: Int, cases: [PollutionHarness.Case]) throws -> [PollutionHarness.Case: Cell] {
        let page = PageRegion.smallPage
        let startA = PageChain.build(base: memory.regionA.base, count: w, slotBytes: page, linesPerSlot: 64, rng: &rng)
        let startB = PageChain.build(base: memory.regionB.base, count: w, slotBytes: page, linesPerSlot: 64, rng: &rng)
        memory.control.chainStart.pointee = UInt(bitPattern: startB)
        var cells = Dictionary(uniqueKeysWithValues: cases.map { ($0, Cell()) })
        var attempts = 0
        var r = 0
        while r < reps {
            for i in 0..<cases.count {
                let c = cases[(i + r) % cases.count]
                if cells[c]!.penalties.count > r { continue }   // already has this rep
                attempts += 1
                let (first, second, delta) = try rep(c, w: w, startA: startA)
                if let d = delta, d != c.expectedSwitches {
                    if cells[c]!.retaken < Sampler.retakeFactor * reps {
                        cells[c]!.retaken += 1
                        continue
                    }
                    cells[c]!.exhausted = true
                }
                if let d = delta { cells[c]!.switches = (cells[c]!.switches.total + d, cells[c]!.switches.reps + 1) }
                cells[c]!.penalties.append((first - second) / Double(w))
                cells[c]!.warm.append(second / Double(w))
            }
            if cases.allSatisfy({ cells[$0]!.penalties.count > r }) { r += 1 }
            if attempts > (Sampler.retakeFactor + 2) * reps * cases.count { break }
        }
        return cells
    }

    /// One rep: the first re-walk's and the warm walk's ns, and how far A's and B's switch counts moved.
    mutating func rep(_ c: PollutionHarness.Case, w: Int, startA: UnsafeRawPointer) throws -> (Double, Double, UInt64?) {
        let control = memory.control
        let before = tally.read()
        var p = PageChain.chase(startA, 2 * w)        // warm
        switch c.kind {
        case .process, .thread:
            control.chainSteps.pointee = c.busy ? w : 0
            let word = c.kind == .process ? control.wordProcess : control.wordThread
            sb_store_release(word, 1)
            _ = sb_futex_wake(word, 1, 1)
            var spins = 0
            while sb_load_acquire(control.wordA) == 0 {
                sched_yield()
                spins += 1
                if spins % 100_000 == 0 { try b.checkAlive() }
            }
            sb_store_release(control.wordA, 0)
        case .none:
            _ = sb_futex_wake(memory.idleWord, 1, 1)   // the same wake call, no waiter
            sched_yield()                              // nothing else runnable: no switch
        case .flush:
            _ = mprotect(memory.regionA.base, w * PageRegion.smallPage, PROT_READ)
            _ = mprotect(memory.regionA.base, w * PageRegion.smallPage, PROT_READ | PROT_WRITE)
            sched_yield()
        }
        let t0 = monotonicNanoseconds()
        p = PageChain.chase(p, w)                     // first re-walk
        let t1 = monotonicNanoseconds()
        p = PageChain.chase(p, w)                     // warm again
        let t2 = monotonicNanoseconds()
        withExtendedLifetime(p) {}
        let after = tally.read()
        let delta = (before != nil && after != nil) ? after! &- before! : nil
        return (Double(t1 - t0), Double(t2 - t1), delta)
    }
}
