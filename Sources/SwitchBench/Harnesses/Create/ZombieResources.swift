import CSwitchBench
import Foundation
import Glibc

/// What exit frees and what a zombie keeps (claim C6, the note's "内核立即回收一部分资源并将该进程标记为
/// 僵尸进程"): a child that made `touchedBytes` of anonymous memory resident and opened `openedFDs`
/// files, read from /proc while it lives, then after its exit while it is a zombie (waitid WNOWAIT
/// waits for the exit and leaves it unreaped), then after waitpid. Stored as facts of the `zombie` row.
public struct ZombieResources: Sendable, Equatable {
    /// What /proc showed of the child at one moment; nil fields: not there (a zombie has no VmRSS line).
    public struct Snapshot: Sendable, Equatable {
        public var state: String?
        public var rssKiB: Double?
        public var mappings: Int?
        public var openFDs: Int?
        public var statusFields: Int?
        /// The system's MemFree and MemAvailable (KiB) at that moment.
        public var memFreeKiB: Double?
        public var memAvailableKiB: Double?
    }

    public static let touchedBytes = 128 << 20
    public static let openedFDs = 64
    /// The exit code the child ends with, read back before waitpid.
    public static let exitCode: Int32 = 7

    public var alive: Snapshot
    public var zombie: Snapshot
    /// The exit code waitid(WNOWAIT) read from the zombie (nil: not read).
    public var exitStatus: Int?
    /// MemFree after waitpid (KiB).
    public var memFreeAfterReapKiB: Double?

    /// What /proc shows of `pid` now, and the system's free memory.
    static func snapshot(_ pid: pid_t) -> Snapshot {
        var s = Snapshot()
        s.state = CreateHarness.procState(pid)
        if let status = readProcFile("/proc/\(pid)/status") {
            let lines = status.split(separator: "\n")
            s.statusFields = lines.count
            s.rssKiB = lines.first { $0.hasPrefix("VmRSS:") }.flatMap { Double($0.split(separator: " ",
                                                                                        omittingEmptySubsequences: true).dropFirst().first ?? "") }
        }
        s.mappings = readProcFile("/proc/\(pid)/maps").map { $0.split(separator: "\n").count }
        s.openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
        let mem = readProcFile("/proc/meminfo") ?? ""
        func kib(_ key: String) -> Double? {
            mem.split(separator: "\n").first { $0.hasPrefix(key + ":") }.flatMap { Double($0.split(separator: " ",
                                                                                                   omittingEmptySubsequences: true).dropFirst().first ?? "") }
        }
        (s.memFreeKiB, s.memAvailableKiB) = (kib("MemFree"), kib("MemAvailable"))
        return s
    }

    /// Forks the child, reads it alive, lets it exit, reads the zombie, reaps it (`reap` says how:
    /// the caller's waitpid, so that the states before and after stay the caller's checks).
    static func measure(reap: (pid_t) -> Void) throws -> ZombieResources {
        var ready: [Int32] = [0, 0], go: [Int32] = [0, 0]
        guard pipe(&ready) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
        guard pipe(&go) == 0 else {
            close(ready[0]); close(ready[1])
            throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))")
        }
        let devNull: StaticString = "/dev/null"
        let pid = fork()
        if pid == 0 { child(ready: ready[1], go: go[0], devNull: devNull) }
        close(ready[1]); close(go[0])
        defer { close(ready[0]); close(go[1]) }
        guard pid > 0 else { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
        sb_track_child(pid)
        var byte: UInt8 = 0
        guard sb_sys_read(ready[0], &byte, 1) == 1 else {
            reap(pid)
            throw SwitchBenchError.caseFailed("the zombie's child ended before it was ready")
        }
        let alive = snapshot(pid)
        _ = sb_sys_write(go[1], &byte, 1)
        let code = sb_wait_exited_nowait(pid)
        let zombie = snapshot(pid)
        reap(pid)
        let after = snapshot(pid)
        return ZombieResources(alive: alive, zombie: zombie, exitStatus: code >= 0 ? Int(code) : nil, memFreeAfterReapKiB: after.memFreeKiB)
    }

    /// The child: memory resident in 4 KiB pages, files open, "ready", wait for "go", exit. System
    /// calls only (it is a fork of a multi-threaded process).
    private static func child(ready: Int32, go: Int32, devNull: StaticString) -> Never {
        _ = sb_set_parent_death_signal()
        if let p = mmap(nil, touchedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            _ = madvise(p, touchedBytes, 15 /* MADV_NOHUGEPAGE */)
            let bytes = p.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < touchedBytes { bytes[i] = 1; i += 4096 }
        }
        let path = UnsafeRawPointer(devNull.utf8Start).assumingMemoryBound(to: CChar.self)
        for _ in 0..<openedFDs { _ = open(path, O_RDONLY) }
        var byte: UInt8 = 1
        _ = sb_sys_write(ready, &byte, 1)
        _ = sb_sys_read(go, &byte, 1)
        _exit(exitCode)
    }

    // MARK: facts of the zombie row

    static let keys = (rssAlive: "rss_kib_alive", rssZombie: "rss_kib_zombie", mapsAlive: "mappings_alive", mapsZombie: "mappings_zombie",
                       fdsAlive: "open_fds_alive", fdsZombie: "open_fds_zombie", fieldsAlive: "status_fields_alive",
                       fieldsZombie: "status_fields_zombie", freeAtExit: "memfree_gain_kib_at_exit",
                       availableAtExit: "memavailable_gain_kib_at_exit", freeAtReap: "memfree_gain_kib_at_reap",
                       exitStatus: "exit_status_before_waitpid", touched: "child_touched_bytes", opened: "child_opened_fds")

    /// Writes the facts onto the zombie row; a zombie that kept memory, mappings or files is invalid.
    func record(into r: inout Record) {
        let k = Self.keys
        func set(_ key: String, _ v: Double?) { r.setFact(key, v.map { String(format: "%.0f", $0) } ?? "absent") }
        set(k.touched, Double(Self.touchedBytes)); set(k.opened, Double(Self.openedFDs))
        set(k.rssAlive, alive.rssKiB); set(k.rssZombie, zombie.rssKiB)
        set(k.mapsAlive, alive.mappings.map(Double.init)); set(k.mapsZombie, zombie.mappings.map(Double.init))
        set(k.fdsAlive, alive.openFDs.map(Double.init)); set(k.fdsZombie, zombie.openFDs.map(Double.init))
        set(k.fieldsAlive, alive.statusFields.map(Double.init)); set(k.fieldsZombie, zombie.statusFields.map(Double.init))
        set(k.freeAtExit, freedAtExitKiB)
        set(k.availableAtExit, availableAtExitKiB)
        set(k.freeAtReap, freedAtReapKiB)
        set(k.exitStatus, exitStatus.map(Double.init))
        if (zombie.rssKiB ?? 0) > 0 { r.invalidate("the zombie still showed VmRSS \(Int(zombie.rssKiB!)) kB") }
        if (zombie.mappings ?? 0) > 0 { r.invalidate("the zombie still showed \(zombie.mappings!) mappings") }
        if (zombie.openFDs ?? 0) > 0 { r.invalidate("the zombie still showed \(zombie.openFDs!) open files") }
        if exitStatus != Int(Self.exitCode) { r.invalidate("waitid(WNOWAIT) did not read the exit status \(Self.exitCode) before waitpid") }
        if (alive.rssKiB ?? 0) * 1024 < Double(Self.touchedBytes) { r.invalidate("the child's VmRSS was below the \(Self.touchedBytes >> 20) MiB it touched") }
        if (alive.openFDs ?? 0) < Self.openedFDs { r.invalidate("the child showed fewer than the \(Self.openedFDs) files it opened") }
    }

    /// The facts back from a row (nil: a run without them).
    public static func from(_ r: Record) -> ZombieResources? {
        let k = keys
        guard r.fact(k.rssAlive) != nil else { return nil }
        func n(_ key: String) -> Double? { r.factNumber(key) }
        let alive = Snapshot(state: nil, rssKiB: n(k.rssAlive), mappings: n(k.mapsAlive).map(Int.init), openFDs: n(k.fdsAlive).map(Int.init),
                             statusFields: n(k.fieldsAlive).map(Int.init), memFreeKiB: 0, memAvailableKiB: 0)
        let zombie = Snapshot(state: r.fact(ZombieFact.beforeKey), rssKiB: n(k.rssZombie), mappings: n(k.mapsZombie).map(Int.init),
                              openFDs: n(k.fdsZombie).map(Int.init), statusFields: n(k.fieldsZombie).map(Int.init),
                              memFreeKiB: n(k.freeAtExit), memAvailableKiB: n(k.availableAtExit))
        let reapGain = n(k.freeAtReap).flatMap { g in n(k.freeAtExit).map { $0 + g } }
        return ZombieResources(alive: alive, zombie: zombie, exitStatus: n(k.exitStatus).map(Int.init), memFreeAfterReapKiB: reapGain)
    }

    /// How much MemFree and MemAvailable grew across the exit, and MemFree across waitpid (KiB).
    public var freedAtExitKiB: Double? { alive.memFreeKiB.flatMap { a in zombie.memFreeKiB.map { $0 - a } } }
    public var availableAtExitKiB: Double? { alive.memAvailableKiB.flatMap { a in zombie.memAvailableKiB.map { $0 - a } } }
    public var freedAtReapKiB: Double? { zombie.memFreeKiB.flatMap { z in memFreeAfterReapKiB.map { $0 - z } } }
}
