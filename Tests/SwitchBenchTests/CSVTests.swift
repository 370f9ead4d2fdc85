import Testing
@testable import SwitchBench

@Suite struct CSVTests {
    @Test func quotesOnlyWhenNeeded() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a,b") == "\"a,b\"")
        #expect(CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.field("two\nlines") == "\"two\nlines\"")
        #expect(CSV.field("") == "")
    }

    @Test func parsesRFC4180() throws {
        let rows = try CSV.parse("a,\"b,c\",\"d \"\"e\"\"\"\r\n1,,\"x\ny\"\n")
        #expect(rows == [["a", "b,c", "d \"e\""], ["1", "", "x\ny"]])
        #expect(throws: SwitchBenchError.self) { try CSV.parse("a,\"open\n") }
    }

    static func sampleRun() -> RunResult {
        var run = RunResult.start(environment: Environment.read())
        var r = Record(harness: "process", mechanism: "pipe", placement: "same-cpu", cpus: [0], tasks: 2,
                       metric: "round_trip", samples: [2900, 2950, 3010.5], opsPerSample: 700,
                       switchesPerOp: 2.0, expectedSwitchesPerOp: 2, counterSource: "test", cpusSeen: "0,0")
        r.addNote("a note, with a comma and \"quotes\"")
        run.records = [r, Record(harness: "syscall", mechanism: "getppid", placement: "same-cpu", cpus: [0],
                                 tasks: 1, metric: "per_call", samples: [100, 101], opsPerSample: 50_000)]
        return run
    }

    @Test func headerFollowsTheContract() throws {
        let text = CSVExporter.render(Self.sampleRun())
        let header = try CSV.parse(text)[0]
        #expect(Array(header.prefix(CSVExporter.contractColumns.count)) == CSVExporter.contractColumns)
        #expect(header.count == CSVExporter.columns.count)
        for row in try CSV.parse(text) { #expect(row.count == header.count) }
    }

    @Test func roundTrip() throws {
        let run = Self.sampleRun()
        let back = try CSVExporter.read(CSVExporter.render(run))
        #expect(back.count == 2)
        let a = run.records[0], b = back[0].record
        #expect(b.key == a.key)
        #expect(b.note == a.note)
        #expect(b.switchesPerOp == 2.0)
        #expect(b.valid == a.valid)
        #expect(b.sampleValues == a.sampleValues)
        #expect(abs((b.stats?.median ?? 0) - (a.stats?.median ?? 1)) < 0.001)
        #expect(back[0].fields["run_id"] == run.runID)
        #expect(back[1].record.switchesPerOp == nil)
    }

    @Test func rejectsForeignCSV() {
        #expect(throws: SwitchBenchError.self) { try CSVExporter.read("") }
        #expect(throws: SwitchBenchError.self) { try CSVExporter.read("a,b\n1,2\n") }
        var text = CSVExporter.render(Self.sampleRun())
        text += "short,row\n"
        #expect(throws: SwitchBenchError.self) { try CSVExporter.read(text) }
    }
}

@Suite struct MitigationsColumnTests {
    @Test func aMitigationInForceWhoseStateNamesANotAffectedPartSurvivesTheCSV() throws {
        var e = ReportFixture.environment()
        e.mitigations = ["meltdown: Not affected",
                         "spectre_v2: Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Not affected"]
        let text = CSVExporter.render(RunResult(runID: "r", timestampUTC: "t", environment: e,
                                                records: [ReportFixture.record("syscall", "getppid", metric: "per_call", 100, tasks: 1)]))
        let back = try RunLoader.parse(text, source: "t.csv").run.environment
        #expect(back.mitigations == ["spectre_v2: Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Not affected"])
        #expect(back.mitigationSummary.contains("spectre_v2"))
    }

    @Test func theEnvironmentLineSurvivesTheCSV() throws {
        var e = ReportFixture.environment()
        e.onlineCPUs = "0-1"
        e.clocksource = "tsc"
        let run = RunResult(runID: "r", timestampUTC: "t", environment: e,
                            records: [ReportFixture.record("syscall", "getppid", metric: "per_call", 100, tasks: 1)])
        let back = try RunLoader.parse(CSVExporter.render(run), source: "t.csv").run.environment
        #expect(back.onlineCPUs == "0-1" && back.clocksource == "tsc")
        #expect(EnvironmentText.onlineCPUs(back) == EnvironmentText.onlineCPUs(e))
    }
}
