import CSwitchBench
import Glibc
import Foundation

/// What one events task does, in a thread, a forked process or the event loop (EventLoop.swift): its
/// arguments, the work of one event and the reply, and the blocking loop of the thread and process kinds.
extension EventBench {
    /// Per-task arguments, in memory allocated before any task starts (a forked child may not allocate).
    struct Worker {
        var requestFD: Int32
        var replyFD: Int32
        var remaining: UnsafeMutablePointer<UInt32>
        var word: UnsafeMutablePointer<UInt64>
        var started: UnsafeMutablePointer<UInt32>
        /// Where the task writes its kernel thread id (its switches are counted there).
        var tid: UnsafeMutablePointer<Int32>
        var cpu: Int32
    }

    /// Written to a task's eventfd to end it (a request adds 1; this is far above any pending count).
    static let stopValue: UInt64 = 1 << 40

    /// The work of one event, then the reply when this task is the burst's last.
    @inline(__always)
    static func serve(_ w: UnsafeMutablePointer<Worker>) {
        var x = w.pointee.word.pointee | 1
        for _ in 0..<EventsHarness.workRounds {
            x ^= x >> 29
            x = x &* 0xbf58476d1ce4e5b9
        }
        w.pointee.word.pointee = x
        if sb_fetch_add(w.pointee.remaining, UInt32.max) == 1 {
            var one: UInt64 = 1
            _ = sb_sys_write(w.pointee.replyFD, &one, 8)
        }
    }

    static func begin(_ cpu: Int32) {
        if cpu >= 0 {
            var c = cpu
            _ = sb_set_affinity(&c, 1)
        }
        _ = sb_set_sched_batch(1)
    }

    /// A thread (or forked process) per task: block in read, serve, until end-of-file.
    static let blockingEntry: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
        let w = raw!.assumingMemoryBound(to: Worker.self)
        blockingLoop(w)
        return nil
    }

    static func blockingLoop(_ w: UnsafeMutablePointer<Worker>) {
        begin(w.pointee.cpu)
        w.pointee.tid.pointee = sb_gettid()
        _ = sb_fetch_add(w.pointee.started, 1)
        var v: UInt64 = 0
        while true {
            let r = sb_sys_read(w.pointee.requestFD, &v, 8)
            if r == 8 && v < stopValue { serve(w); continue }
            if r < 0 && errno == EINTR { continue }
            break
        }
    }
}
