import CSwitchBench
import Foundation
import Glibc

/// The create harness's minimal parent: the `switchbench-proc` helper (Sources/switchbench-proc/main.c),
/// started as a child of this process and driven over two pipes. It forks, execs, spawns and makes
/// threads the way lmbench's `lat_proc` does, so a row times the creation, not this large Swift process
/// (whose fork copies the page tables of its runtime, heap and libraries). It runs the batches and
/// answers each with its wall and CPU time; the statistics stay in `Sampler`.
final class MinimalParent {
    /// The helpers' file names; both live beside the switchbench binary (`Helpers.directory`).
    static let parentName = "switchbench-proc"
    static let noopName = "switchbench-noop"

    /// The kinds of batch the helper runs, by mechanism.
    static func kind(_ mechanism: String) -> String? {
        ["fork-exit-wait": "fork", "fork-exec": "exec", "posix-spawn": "spawn", "pthread": "thread"][mechanism]
    }

    /// Where the helpers are: the directory of this executable (/proc/self/exe), which is the build's
    /// bin directory for `swift build` / `swift run` and for the test bundle under `swift test`, and
    /// the output directory of scripts/build-static.sh.
    static var directory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }

    /// Both helpers' paths, or why they cannot be used: one line naming each missing file.
    static func helpers(in dir: String = directory) -> Result<(parent: String, noop: String), HelperMissing> {
        let paths = [parentName, noopName].map { (dir as NSString).appendingPathComponent($0) }
        let missing = paths.filter { access($0, X_OK) != 0 }
        guard missing.isEmpty else { return .failure(HelperMissing(paths: missing)) }
        return .success((paths[0], paths[1]))
    }

    struct HelperMissing: Error, CustomStringConvertible {
        var paths: [String]
        var description: String {
            """
            missing helper \(paths.joined(separator: " and ")) (no such executable file; `swift build` builds it beside switchbench, \
            scripts/build-static.sh copies it there)
            """
        }
    }

    let pid: pid_t
    private let toChild: Int32
    private let fromChild: Int32
    private var buffer = [UInt8](repeating: 0, count: 256)

    /// Starts the helper. It inherits the calling thread's CPU affinity (pin before).
    init(parent: String, noop: String) throws {
        var toFds: [Int32] = [0, 0], fromFds: [Int32] = [0, 0]
        guard pipe(&toFds) == 0 else { throw SwitchBenchError.caseFailed("pipe failed: \(errnoText(errno))") }
        guard pipe(&fromFds) == 0 else {
            close(toFds[0]); close(toFds[1])
            throw SwitchBenchError.caseFailed("pipe failed: \(errnoText(errno))")
        }
        // close-on-exec: no other child of this process keeps the helper's pipes open
        for fd in toFds + fromFds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toFds[0], 0)     // dup2 clears close-on-exec
        posix_spawn_file_actions_adddup2(&actions, fromFds[1], 1)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(parent), strdup(noop), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        sb_block_interrupts(1)
        let rc = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                posix_spawn(&child, parent, &actions, nil, UnsafeMutablePointer(mutating: a.baseAddress!),
                            UnsafeMutablePointer(mutating: e.baseAddress!))
            }
        }
        if rc == 0 { sb_track_child(child) }
        sb_block_interrupts(0)
        close(toFds[0])
        close(fromFds[1])
        guard rc == 0 else {
            close(toFds[1]); close(fromFds[0])
            throw SwitchBenchError.caseFailed("posix_spawn(\(parent)) failed: \(errnoText(rc))")
        }
        pid = child
        toChild = toFds[1]
        fromChild = fromFds[0]
    }

    deinit {
        close(toChild)            // end of input: the helper exits 0
        close(fromChild)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        sb_untrack_child(pid)
    }

    /// Sends one command line and returns the fields of its "ok …" answer; throws on "err …".
    func command(_ line: String) throws -> [Substring] {
        let bytes = Array((line + "\n").utf8)
        let sent = bytes.withUnsafeBytes { write(toChild, $0.baseAddress, $0.count) }
        guard sent == bytes.count else {
            throw SwitchBenchError.caseFailed("\(Self.parentName) did not take '\(line)': \(errnoText(errno))")
        }
        var count = 0
        while count < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fromChild, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SwitchBenchError.caseFailed("\(Self.parentName) ended without answering '\(line)'") }
            count += n
            if buffer[count - 1] == UInt8(ascii: "\n") { break }
        }
        let answer = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = answer.split(separator: " ")
        guard fields.first == "ok" else {
            throw SwitchBenchError.caseFailed("\(Self.parentName) '\(line)': \(answer.hasPrefix("err ") ? String(answer.dropFirst(4)) : answer)")
        }
        return Array(fields.dropFirst())
    }

    /// Runs n ops of `kind`; the helper's wall time and its own + reaped children's CPU time over them.
    func batch(_ kind: String, _ n: Int) throws -> (ns: UInt64, cpuNs: UInt64) {
        let f = try command("\(kind) \(n)")
        guard f.count == 2, let ns = UInt64(f[0]), let cpu = UInt64(f[1]) else {
            throw SwitchBenchError.caseFailed("\(Self.parentName): unreadable answer to '\(kind) \(n)'")
        }
        return (ns, cpu)
    }

    /// The CPU the helper runs on (sched_getcpu there).
    func cpu() throws -> Int {
        guard let c = try command("cpu").first.flatMap({ Int($0) }) else {
            throw SwitchBenchError.caseFailed("\(Self.parentName): unreadable answer to 'cpu'")
        }
        return c
    }

    /// Makes `bytes` of anonymous 4 KiB-page memory resident in the helper; its address (0 for 0 bytes).
    func touch(_ bytes: Int) throws -> UInt {
        guard let a = try command("touch \(bytes)").first.flatMap({ UInt($0, radix: 16) }) else {
            throw SwitchBenchError.caseFailed("\(Self.parentName): unreadable answer to 'touch \(bytes)'")
        }
        return a
    }

    /// How many mappings (VMAs, lines of /proc/<pid>/maps) the helper has; nil when unreadable. fork
    /// copies each one (dup_mmap), so a parent with more shared libraries forks slower.
    func mappings() -> Int? {
        readProcFile("/proc/\(pid)/maps").map { $0.split(separator: "\n").count }
    }

    /// What the kernel gave the touched region [address, address + bytes): its resident bytes and the
    /// bytes backed by transparent huge pages, from the helper's /proc/<pid>/smaps; nil when unreadable.
    func residency(address: UInt, bytes: Int) -> (rss: Int, huge: Int)? {
        guard let text = readProcFile("/proc/\(pid)/smaps"),
              let huge = Smaps.hugeBytes(in: text, start: address, end: address + UInt(bytes)) else { return nil }
        var rss = 0, inside = false
        for line in text.split(separator: "\n") {
            if let range = Smaps.mappingRange(line) {
                inside = range.lo < address + UInt(bytes) && range.hi > address
            } else if inside, line.hasPrefix("Rss:") {
                rss += (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
            }
        }
        return (rss, huge)
    }
}
