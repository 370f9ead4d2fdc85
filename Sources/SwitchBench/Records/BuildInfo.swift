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

    /// Short commit of the source tree, "+dirty" when it has uncommitted changes; "unknown" outside git.
    public static let gitCommit: String = {
        func git(_ args: [String]) -> String? {
            guard let r = Subprocess.run(["git", "-C", packageRoot] + args), r.status == 0 else { return nil }
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let head = git(["rev-parse", "--short=12", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "+dirty"
        return head + dirty
    }()
}
