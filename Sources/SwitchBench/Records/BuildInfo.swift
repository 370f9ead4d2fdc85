import CSwitchBench
import Foundation

/// Facts about this build of switchbench.
public enum BuildInfo {
    #if DEBUG
    public static let configuration = "debug"
    #else
    public static let configuration = "release"
    #endif

    public static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.0/6.1"
        #endif
    }

    /// The package root, known from this file's path at compile time.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Records, SwitchBench, Sources, root
        return url.path
    }()

    /// The commit written into the binary at build time (scripts/build-static.sh passes
    /// `-Xcc -DSB_GIT_COMMIT='"<commit>"'`); nil for a build without it (`swift build`, `swift run`).
    public static let embeddedCommit: String? = {
        let s = String(cString: sb_git_commit())
        return s.isEmpty ? nil : s
    }()

    /// Short commit of the source tree, "+dirty" when it had uncommitted changes: the one written in at
    /// build time when there is one (a binary copied to another machine keeps it), else asked of git at
    /// run time; "unknown" when neither knows.
    public static let gitCommit: String = embeddedCommit ?? {
        func git(_ args: [String]) -> String? {
            guard let r = Subprocess.run(["git", "-C", packageRoot] + args), r.status == 0 else { return nil }
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "--short=12", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "+dirty"
        return head + dirty
    }()
}
