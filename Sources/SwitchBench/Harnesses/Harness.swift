/// What the user asked for, already validated by the CLI. Harnesses read what applies to them.
public struct RunOptions: Sendable {
    /// nil: each harness's default mechanisms.
    public var mechanisms: [String]?
    /// nil: each harness's default placements.
    public var placements: [Placement]?
    /// CPUs to use (taskset list), nil: the allowed set.
    public var cpus: [Int]?
    public var tasks: [Int] = [2]
    public var footprints: [Int] = [0]
    public var sampler: SamplerConfig = .standard
    public var quick = false
    /// The values of the options harnesses declare (`HarnessOption`), by name; read through
    /// `options[option]` or the typed accessor beside the harness that owns it.
    public var harnessValues: [String: [Int]] = [:]

    public init() {}
}

/// One case a harness will run: the parameters that make its key, plus a label for progress.
public struct CaseSpec: Sendable {
    public var harness: String
    public var mechanism: String
    public var placement: Placement
    public var tasks: Int
    public var footprint: Int
    /// The case's other parameters (`CaseParameter`, e.g. the events harness's burst size): its rows
    /// carry them in their key.
    public var parameters: [CaseParameter]
    /// The mechanisms of a case that measures several side by side (tlb's curves, pollution's kinds of
    /// B); `mechanism` is then their names joined by commas, for the label only.
    public var mechanisms: [String]

    public init(harness: String, mechanism: String, placement: Placement = .sameCPU, tasks: Int = 1,
                footprint: Int = 0, parameters: [CaseParameter] = []) {
        (self.harness, self.mechanism, self.placement, self.mechanisms) = (harness, mechanism, placement, [mechanism])
        (self.tasks, self.footprint, self.parameters) = (tasks, footprint, parameters.sorted())
    }

    /// One case over several mechanisms at once (`mechanisms`).
    public init(harness: String, mechanisms: [String], placement: Placement = .sameCPU, tasks: Int = 1) {
        self.init(harness: harness, mechanism: mechanisms.joined(separator: ","), placement: placement, tasks: tasks)
        self.mechanisms = mechanisms
    }

    public var label: String {
        var s = "\(harness) \(mechanism) \(placement.rawValue)"
        if tasks > 1 { s += " tasks=\(tasks)" }
        if footprint > 0 { s += " footprint=\(footprint)" }
        for p in parameters { s += " \(p.label)" }
        return s
    }
}

/// What a harness needs while it runs a case: the CPUs it may use, the topology and the sampler.
public struct RunContext: Sendable {
    public var allowedCPUs: [Int]
    public var topology: Topology
    public var options: RunOptions
    public var environment: Environment

    public init(options: RunOptions, environment: Environment, allowedCPUs: [Int] = Affinity.current(),
                topology: Topology = .read()) {
        self.options = options
        self.environment = environment
        self.allowedCPUs = options.cpus ?? allowedCPUs
        self.topology = topology
    }

    /// Why `placement` cannot be honoured with the allowed CPUs, or nil when it can: cross-cpu needs
    /// two distinct CPUs. Such cases are skipped (`Runner`), or refused when asked for by name (CLI).
    public func unhonourable(_ placement: Placement) -> String? {
        let distinct = Set(allowedCPUs).count
        guard distinct < placement.minimumCPUs else { return nil }
        return "\(placement.rawValue) needs at least \(placement.minimumCPUs) distinct CPUs; " +
            (distinct == 0 ? "no CPU is allowed" : "only CPU \(CPUList.format(allowedCPUs)) is allowed") +
            " (taskset/--cpus)"
    }

    /// Every CPU assignment a placement stands for: one for same-cpu and unpinned, one per kind of
    /// CPU pair (SMT sibling, same LLC, …) for cross-cpu. Each: a CPU per task (empty when unpinned)
    /// and a note.
    public func assignments(for placement: Placement, tasks: Int) -> [(cpus: [Int], note: String)] {
        guard placement == .crossCPU else { return [cpus(for: placement, tasks: tasks)] }
        let all = topology.crossPlacements(tasks: tasks, allowed: allowedCPUs)
        if all.isEmpty { return [cpus(for: placement, tasks: tasks)] }
        return all.map { ($0.cpus, "cross-cpu: \($0.relation)") }
    }

    /// The CPU list a placement uses for `tasks` tasks (one entry per task; empty when unpinned).
    public func cpus(for placement: Placement, tasks: Int) -> (cpus: [Int], note: String) {
        switch placement {
        case .sameCPU:
            return (Array(repeating: allowedCPUs[0], count: tasks), "")
        case .crossCPU:
            let p = topology.crossPlacement(tasks: tasks, allowed: allowedCPUs)
            return (p.cpus, "cross-cpu: \(p.relation)")
        case .unpinned:
            return ([], "")
        }
    }
}

/// A harness measures one kind of thing (process switches, TLB reach, …) and owns how it is shown.
///
/// Measuring: `plan` and `run` turn cases into `Record`s. Facts that are not a row's number go in
/// `Record.facts` (typed accessors beside the harness read them back); `note` is commentary for
/// people, never parsed outside the harness that wrote it.
///
/// Showing (each optional, default none): the report asks every registered harness, in registry
/// order, with the whole run, and uses what it returns — a harness returns nil / [] when its rows
/// are absent:
/// - `markdownSection(_:lang:)`: its section of results.md;
/// - `judgeClaims(_:lang:)`: the course-note claims it judges (report.md, in id order; rule shapes in `Claims`);
/// - `plots(_:lang:)`: its SVG files (written beside results.md and embedded by name);
/// - `notesSection(_:lang:)`: its block under notes.md's heading for the note's two steps (one run
///   or several, a column per run);
/// - `compareExemption(_:baseline:current:)`: why `compare` must not gate one of its changed cases.
/// Harnesses that share one presentation (the process and thread rings) share a `presentationID`;
/// only the first is asked. Every text takes a `Language`: write both, `lang.t("…", "…")` (the
/// Chinese must pass `LanguageTests`' leak check: identifiers in `code spans`).
/// Helpers: `Claims.Text` (a claim's words, declared once), `Claims.section` (heading, blocks,
/// environment line), `Claims.ratioVerdict` (a ratio with CIs against a threshold),
/// `Claims.Claim.decide`, `Format` (values in their units), `EnvironmentText`. See
/// Harnesses/Syscall/SyscallPresentation.swift for the smallest complete example.
///
/// Adding a harness: its own files (a folder under Harnesses/) plus one line in `Registry.harnesses`.
/// What it owns beyond its rows it declares there too: its command-line options (`declaredOptions`),
/// the kinds of switch it adds to the switch-cost table and plot (`switchKinds`), its block of the
/// machines page (`machinesSection`), what the docs say of it (`info`: README's harness list and
/// docs/harnesses.md's table are written from it by scripts/harness-docs.py, `HarnessDocs`).
public protocol Harness: Sendable {
    /// Its id, summary, claims and mechanisms, declared once (`id` … `mechanisms` below read it).
    var info: HarnessInfo { get }
    /// Placements it understands.
    var placements: [Placement] { get }
    /// The options it owns (`--population`, `--node`, …), declared in its folder. Default none.
    var declaredOptions: [HarnessOption] { get }
    /// The kinds of switch it adds to the switch-cost table and plot and machines.md (`SwitchKind`). Default none.
    var switchKinds: [SwitchKind] { get }
    /// The cases the options select, in run order.
    func plan(_ options: RunOptions) -> [CaseSpec]
    /// Runs one case and returns its rows.
    func run(_ spec: CaseSpec, context: RunContext) throws -> [Record]

    /// Whether its timed rows depend on caches and memory bandwidth shared with the other CPUs, so
    /// that a busy neighbour moves them (`Neighbours`): such rows are invalid when `neighbour_busy`
    /// is above `Neighbours.threshold`. Default false.
    var neighbourSensitive: Bool { get }
    /// Whether its same-cpu rows time hand-offs between its own tasks, whose kernel path changes
    /// when another task waits in that CPU's run queue (`Neighbours.applyRunQueue`). Default false.
    var runQueueSensitive: Bool { get }
    /// Harnesses with the same id share one presentation (asked once). Default: `id`.
    var presentationID: String { get }
    /// Whether `switchbench --all` runs it (`Registry.all`); false: only `run` by name. Default true.
    var includedInAll: Bool { get }
    /// Its section of results.md, nil when the run has none of its rows.
    func markdownSection(_ run: RunResult, lang: Language) -> String?
    /// The claims it judges, each with a verdict (not measured when its rows are absent).
    func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim]
    /// Its plots, only those the run has rows for.
    func plots(_ run: RunResult, lang: Language) -> [Plot]
    /// Its block under the notes page's heading for the note's two steps (notes.md), for one run or
    /// several side by side (a column per run); nil when no run has its rows. Default nil.
    func notesSection(_ runs: [RunResult], lang: Language) -> String?
    /// Where its notes block goes under that heading: lower first, registry order within one value. Default 0.
    var notesOrder: Int { get }
    /// Its block of machines.md (several runs side by side, `MachinesPage`: a column per run); nil: none. Default nil.
    func machinesSection(_ page: MachinesPage) -> String?
    /// Why `compare` shows but does not count a change of this case (nil: it counts).
    func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)?
}

/// One SVG plot: its file name, its alt text and its contents.
public struct Plot: Sendable {
    public var name: String
    public var title: String
    public var contents: String
    public init(name: String, title: String, contents: String) { (self.name, self.title, self.contents) = (name, title, contents) }
}

/// What `switchbench list` shows of a harness, the names the CLI checks, and what the docs say of it:
/// README's harness list and docs/harnesses.md's table are written from these (`HarnessDocs`,
/// `switchbench list --format docs`). English, as `list` and the docs are; the files of a run are the
/// ones written in both languages.
public struct HarnessInfo: Sendable {
    /// The id used on the command line and in the `harness` column.
    public var id: String
    /// Which claims it measures (C1 …; docs/claims.md).
    public var claims: [String]
    /// One line for `switchbench list` and README's harness list.
    public var summary: String
    /// Mechanism ids and one line each.
    public var mechanisms: [(id: String, summary: String)]
    /// What one op of its rows is ("one call", "one lap of a ring of N tasks"): the "one op" column of
    /// docs/harnesses.md's table. Every registered harness declares one (`RegistryTests`); the default
    /// "" is for harnesses the tests make.
    public var op: String
    /// The anchor of its section in docs/harnesses.md ("syscall", "thread-and-process-rings"), which its
    /// name in the generated docs links to; nil: none yet (the name is not a link).
    public var section: String?

    public init(_ id: String, claims: [String], summary: String, mechanisms: [(id: String, summary: String)],
                op: String = "", section: String? = nil) {
        (self.id, self.claims, self.summary, self.mechanisms) = (id, claims, summary, mechanisms)
        (self.op, self.section) = (op, section)
    }
}

extension Harness {
    public var id: String { info.id }
    public var summary: String { info.summary }
    public var claims: [String] { info.claims }
    public var mechanisms: [(id: String, summary: String)] { info.mechanisms }
}

extension Harness {
    public var placements: [Placement] { [.sameCPU] }
    public var declaredOptions: [HarnessOption] { [] }
    public var switchKinds: [SwitchKind] { [] }
    public var presentationID: String { id }
    public var includedInAll: Bool { true }
    public var neighbourSensitive: Bool { false }
    public var runQueueSensitive: Bool { false }
    public func markdownSection(_ run: RunResult, lang: Language) -> String? { nil }
    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] { [] }
    public func plots(_ run: RunResult, lang: Language) -> [Plot] { [] }
    public func notesSection(_ runs: [RunResult], lang: Language) -> String? { nil }
    public var notesOrder: Int { 0 }
    public func machinesSection(_ page: MachinesPage) -> String? { nil }
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? { nil }

    /// Mechanisms selected by the options, in this harness's order (unknown ones were rejected by the CLI).
    public func selectedMechanisms(_ options: RunOptions) -> [String] {
        let all = mechanisms.map(\.id)
        guard let wanted = options.mechanisms else { return all }
        return all.filter(wanted.contains)
    }

    /// The cases to run: the harness's plan, less any case whose placement --placement excludes
    /// (so a harness that runs on one CPU only is skipped, not run anyway, under --placement cross-cpu).
    public func cases(_ options: RunOptions) -> [CaseSpec] {
        plan(options).filter { options.placements?.contains($0.placement) ?? true }
    }

    public func selectedPlacements(_ options: RunOptions) -> [Placement] {
        guard let wanted = options.placements else { return placements }
        return placements.filter(wanted.contains)
    }
}

/// Every harness, in the order `--all` runs them and the report shows them. Adding a harness: its
/// files plus one line here.
public enum Registry {
    public static let harnesses: [any Harness] = [
        SyscallHarness(),
        TokenRingHarness(kind: .thread),
        TokenRingHarness(kind: .process),
        CoroutineHarness(),
        AnatomyHarness(),
        CreateHarness(),
        BlockingHarness(),
        TLBHarness(),
        PollutionHarness(),
        MemoryHarness(),
        EventsHarness(),
    ]

    /// What `switchbench --all` runs: every harness that does not leave itself out (`includedInAll`).
    public static var all: [any Harness] { harnesses.filter(\.includedInAll) }

    /// One harness per presentation, in registry order: what the report asks for sections, claims and plots.
    public static var presenters: [any Harness] {
        harnesses.orderedUnique { $0.presentationID }
    }

    /// Every option a harness declares, once each (harnesses may share one), in registry order.
    public static var options: [HarnessOption] {
        harnesses.flatMap(\.declaredOptions).orderedUnique(by: \.name)
    }

    /// "Harness options" for `--help`: each option's flag and example with the harnesses that read it,
    /// then its line, wrapped to fit 80 columns (the help printer wraps longer lines flush left).
    public static var optionsHelp: String {
        options.map { o in
            let owners = harnesses.filter { $0.declaredOptions.contains(o) }.map(\.id).joined(separator: ", ")
            var lines = ["  \(o.flag) <\(o.example)>   (\(owners))"], line = "     "
            for word in o.help.split(separator: " ") {
                if line.count + word.count + 1 > 78 { lines.append(line); line = "     " }
                line += " " + word
            }
            return (lines + [line]).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    public static func harness(_ id: String) -> (any Harness)? {
        harnesses.first { $0.id == id }
    }
}
