import CSwitchBench
import Glibc
import Foundation

/// What the many-tasks harnesses (memory, events) share: the kinds of task, the system limits that
/// decide how many can exist, and the /proc readings they measure with.
enum ManyTasks {
    /// The small set `--all` and a plain `run` use; the full range is `--population 1,10,100,1000,10000`.
    static let defaultPopulation = [10, 1000]
    /// Processes stop here unless `--mechanism process` is named explicitly.
    static let processDefaultCap = 1000

    /// The name (comm) of every forked many-tasks child: static, so naming it allocates nothing.
    static let childName: StaticString = "sb-many-task"

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The population list of a harness: the options' or the default, processes capped at 1000
    /// unless named (a capped case becomes an n/a row, not a silent gap).
    static func population(_ options: RunOptions) -> [Int] {
        options.population ?? defaultPopulation
    }

    /// `--population`: declared by memory and events.
    public static let populationOption = HarnessOption("population", .numbers(1...100_000, what: "a task count"), example: "10,1000",
        help: "tasks alive at once (comma list, 1–100000). Default 10,1000; full range: 1,10,100,1000,10000.")

    /// Why a process case of n tasks is not run by default, or nil.
    static func processCap(_ n: Int, options: RunOptions) -> String? {
        guard n > processDefaultCap, !(options.mechanisms ?? []).contains("process") else { return nil }
        return "processes stop at \(processDefaultCap) by default (name --mechanism process to go further)"
    }

    // MARK: limits

    /// The system facts that bound N, read once per case.
    struct Limits {
        var threadsMax: Int?
        var pidMax: Int?
        var tasksNow: Int?
        var nproc: (soft: Int, hard: Int)?
        var privileged: Bool
        var mapCountMax: Int?
        var mapsNow: Int
        var memAvailable: Int?
        var overcommit: Int?
        var commitLimit: Int?
        var committed: Int?
        var cgroupPidsMax: Int?
        var cgroupPidsNow: Int?
        /// Tasks of this user (`tasksOfUser`), read only when RLIMIT_NPROC applies; nil: not read.
        var userTasksNow: Int? = nil

        static func read() -> Limits {
            func int(_ path: String) -> Int? {
                readProcFile(path).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            // /proc/loadavg: "0.00 0.01 0.05 1/123 4567": 123 tasks (threads) exist.
            let tasks = readProcFile("/proc/loadavg")?.split(separator: " ").dropFirst(3).first?
                .split(separator: "/").last.flatMap { Int($0) }
            var rl = rlimit()
            getrlimit(Int32(__RLIMIT_NPROC.rawValue), &rl)
            let inf = rlim_t.max
            let nproc: (Int, Int)? = rl.rlim_cur == inf ? nil : (Int(rl.rlim_cur), rl.rlim_max == inf ? Int.max : Int(rl.rlim_max))
            let mem = MemInfo.read()
            let (pidsMax, pidsNow) = cgroupPids()
            var l = Limits(threadsMax: int("/proc/sys/kernel/threads-max"), pidMax: int("/proc/sys/kernel/pid_max"),
                       tasksNow: tasks, nproc: nproc, privileged: geteuid() == 0,
                       mapCountMax: int("/proc/sys/vm/max_map_count"),
                       mapsNow: readProcFile("/proc/self/maps")?.split(separator: "\n").count ?? 0,
                       memAvailable: mem["MemAvailable"], overcommit: int("/proc/sys/vm/overcommit_memory"),
                       commitLimit: mem["CommitLimit"], committed: mem["Committed_AS"],
                       cgroupPidsMax: pidsMax, cgroupPidsNow: pidsNow)
            if nproc != nil, !l.privileged { l.userTasksNow = tasksOfUser(getuid()) }
            return l
        }

        /// Tasks (threads included) whose real UID is `uid`, from /proc/<pid>/status (Uid:, Threads:);
        /// nil when /proc cannot be listed. What RLIMIT_NPROC is checked against on fork and clone.
        static func tasksOfUser(_ uid: uid_t) -> Int? {
            guard let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
            var total = 0
            for pid in pids where pid.first?.isNumber == true {
                guard let text = readProcFile("/proc/\(pid)/status") else { continue }
                total += parseUserTasks(text, uid: uid)
            }
            return total
        }

        /// The Threads: count of a /proc status text whose real UID (first Uid: field) is `uid`, else 0.
        static func parseUserTasks(_ text: String, uid: uid_t) -> Int {
            var real: UInt32?, threads = 0
            for line in text.split(separator: "\n") {
                if line.hasPrefix("Uid:") {
                    real = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { UInt32($0) }
                } else if line.hasPrefix("Threads:") {
                    threads = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last ?? "") ?? 0
                }
            }
            return real == uid ? threads : 0
        }

        /// pids.max / pids.current of this process's cgroup (v2, or v1's pids controller), nil when unlimited.
        static func cgroupPids() -> (Int?, Int?) {
            guard let text = readProcFile("/proc/self/cgroup") else { return (nil, nil) }
            for line in text.split(separator: "\n") {
                let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard f.count == 3 else { continue }
                let dir: String
                if f[0] == "0" && f[1].isEmpty { dir = "/sys/fs/cgroup" + f[2] }
                else if f[1].split(separator: ",").contains("pids") { dir = "/sys/fs/cgroup/pids" + f[2] }
                else { continue }
                guard let m = readProcFile(dir + "/pids.max")?.trimmingCharacters(in: .whitespacesAndNewlines),
                      let max = Int(m) else { continue }
                let now = readProcFile(dir + "/pids.current").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                return (max, now)
            }
            return (nil, nil)
        }
    }

    /// What one case of n tasks of a kind needs beyond what exists now.
    struct Needs {
        /// Kernel tasks (threads or processes) to create.
        var tasks = 0
        /// Memory mappings to add (a stack and its guard page: 2 each).
        var mappings = 0
        /// Bytes of memory the case is expected to make resident (a generous estimate).
        var residentBytes = 0
        /// Address space reserved, counted against CommitLimit under overcommit_memory=2.
        var reservedBytes = 0
        /// File descriptors this process will hold open at once.
        var fds = 0
        /// Child processes to fork (each is tracked for the SIGINT/SIGTERM clean-up).
        var children = 0
    }

    /// Children the C side's tracker holds (MAX_CHILDREN in shim.c): more could not be killed on SIGINT.
    static let trackerCapacity = 32_768

    /// The first limit the case would pass, named with its value, or nil when it fits.
    /// Checked before anything is created.
    static func limitReached(_ needs: Needs, _ l: Limits = .read()) -> String? {
        let margin = 64
        if needs.children + margin > trackerCapacity {
            return "switchbench tracks at most \(trackerCapacity) child processes for its SIGINT clean-up (\(needs.children) needed)"
        }
        if needs.tasks > 0 {
            let now = l.tasksNow ?? 0
            if let t = l.threadsMax, now + needs.tasks + margin > t {
                return "kernel.threads-max = \(t) (\(now) tasks exist, \(needs.tasks) more needed)"
            }
            if let p = l.pidMax, now + needs.tasks + margin > p {
                return "kernel.pid_max = \(p) (\(now) tasks exist, \(needs.tasks) more needed)"
            }
            // RLIMIT_NPROC counts the tasks of this user (real UID), threads included, not the machine's.
            if let (soft, _) = l.nproc, !l.privileged {
                let mine = l.userTasksNow ?? now
                if mine + needs.tasks > soft {
                    return "RLIMIT_NPROC = \(soft) (\(mine) tasks of this user exist, \(needs.tasks) more needed)"
                }
            }
            if let m = l.cgroupPidsMax, (l.cgroupPidsNow ?? 0) + needs.tasks + margin > m {
                return "cgroup pids.max = \(m) (\(l.cgroupPidsNow ?? 0) in use, \(needs.tasks) more needed)"
            }
        }
        if needs.mappings > 0, let m = l.mapCountMax, l.mapsNow + needs.mappings + 1000 > m {
            return "vm.max_map_count = \(m) (\(l.mapsNow) mappings exist, \(needs.mappings) more needed)"
        }
        if let a = l.memAvailable, needs.residentBytes > a / 2 {
            return "memory: about \(needs.residentBytes >> 20) MiB needed, MemAvailable \(a >> 20) MiB (at most half is used)"
        }
        if l.overcommit == 2, let c = l.commitLimit, let used = l.committed, used + needs.reservedBytes > c {
            return "vm.overcommit_memory = 2: CommitLimit \(c >> 20) MiB, \(used >> 20) MiB committed, \(needs.reservedBytes >> 20) MiB more needed"
        }
        if needs.fds > 0, let reason = ensureFileLimit(needs.fds + openFDCount() + 16) {
            return reason
        }
        return nil
    }

    /// Raises RLIMIT_NOFILE so that `total` descriptors fit: the soft limit up to the hard one, and
    /// the hard one too when privileged (up to fs.nr_open). nil when it fits, else the limit named.
    static func ensureFileLimit(_ total: Int) -> String? {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        if rl.rlim_cur != rlim_t.max, Int(rl.rlim_cur) < total {
            var want = rl
            want.rlim_cur = rlim_t(total)
            if rl.rlim_max != rlim_t.max, Int(rl.rlim_max) < total { want.rlim_max = rlim_t(total) }
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &want) != 0 {
                return "RLIMIT_NOFILE = \(rl.rlim_cur) (hard \(rl.rlim_max)), \(total) descriptors needed: \(errnoText(errno))"
            }
        }
        return nil
    }

    static func openFDCount() -> Int {
        var n = 0
        if let d = opendir("/proc/self/fd") {
            while readdir(d) != nil { n += 1 }
            closedir(d)
        }
        return max(0, n - 3)   // ".", ".." and the directory's own descriptor
    }

    // MARK: /proc readings

    /// /proc/meminfo, in bytes.
    struct MemInfo {
        var values: [String: Int]
        subscript(_ key: String) -> Int? { values[key] }

        static func read() -> MemInfo {
            var v: [String: Int] = [:]
            for line in (readProcFile("/proc/meminfo") ?? "").split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count >= 2, let n = Int(f[1]) else { continue }
                v[String(f[0].dropLast())] = n * (f.count > 2 && f[2] == "kB" ? 1024 : 1)
            }
            return MemInfo(values: v)
        }

        /// Kernel memory a task costs: kernel stacks, page tables, slab (task_struct, VMAs, files, …).
        var kernel: Int { (self["KernelStack"] ?? 0) + (self["PageTables"] ?? 0) + (self["Slab"] ?? 0) }
    }

    /// One process's memory: smaps_rollup (resident, proportional) and status (address space), bytes.
    struct ProcMemory {
        var rss = 0
        var pss = 0
        var vmSize = 0

        static func read(_ pid: String = "self") -> ProcMemory? {
            guard let rollup = readProcFile("/proc/\(pid)/smaps_rollup") else { return nil }
            var m = ProcMemory()
            for line in rollup.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count >= 2, let n = Int(f[1]) else { continue }
                switch f[0] {
                case "Rss:": m.rss = n * 1024
                case "Pss:": m.pss = n * 1024
                default: break
                }
            }
            // statm's first field: total program size in pages (VmSize).
            if let statm = readProcFile("/proc/\(pid)/statm"), let pages = statm.split(separator: " ").first.flatMap({ Int($0) }) {
                m.vmSize = pages * pageSize
            }
            return m
        }
    }

    /// Forks one many-tasks child, tracked for clean-up, and returns its pid. The child (named
    /// `childName`, killed with its parent) runs `child`, which must make system calls only, then
    /// `_exit(0)`s. Interrupts stay blocked until the parent tracks it. `made`: children made so far.
    static func forkChild(made: Int, _ child: () -> Void) throws -> pid_t {
        sb_block_interrupts(1)   // until the child is tracked
        let pid = fork()
        if pid < 0 {
            sb_block_interrupts(0)
            throw SwitchBenchError.caseFailed("fork() failed after \(made) children: \(errnoText(errno))")
        }
        if pid == 0 {
            _ = sb_set_parent_death_signal()
            sb_block_interrupts(0)
            _ = sb_set_name(childName.utf8Start)
            child()
            _exit(0)
        }
        sb_track_child(pid)
        sb_block_interrupts(0)
        return pid
    }

    /// Waits for every child (untracking it) and joins every thread, once they are ending; empties both lists.
    static func reap(_ pids: inout [pid_t], _ threads: inout [pthread_t]) {
        for pid in pids {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            sb_untrack_child(pid)
        }
        pids = []
        for t in threads { pthread_join(t, nil) }
        threads = []
    }

    /// Waits until `counter` reaches n (each task bumps it just before it blocks), then lets the
    /// last ones reach their system call. False after `seconds` without getting there.
    static func waitForCount(_ counter: UnsafeMutablePointer<UInt32>, _ n: Int, seconds: Double = 60) -> Bool {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while Int(sb_load_acquire(counter)) < n {
            if monotonicNanoseconds() > deadline { return false }
            usleep(1000)
        }
        usleep(20_000)
        return true
    }

    /// The default stack reserve of a new pthread here (glibc: RLIMIT_STACK, 8 MiB unless changed).
    static var defaultThreadStack: Int {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        var size = 0
        pthread_attr_getstacksize(&attr, &size)
        return size
    }
}

extension RunOptions {
    /// How many tasks live at once in the many-tasks harnesses (`--population`); nil: their default set.
    public var population: [Int]? {
        get { self[ManyTasks.populationOption] }
        set { self[ManyTasks.populationOption] = newValue }
    }
}
