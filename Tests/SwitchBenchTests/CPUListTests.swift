import Testing
@testable import SwitchBench

@Suite struct CPUListTests {
    @Test func parsesTasksetLists() throws {
        #expect(try CPUList.parse("0") == [0])
        #expect(try CPUList.parse("0-3,8") == [0, 1, 2, 3, 8])
        #expect(try CPUList.parse(" 2 , 0-1 ") == [2, 0, 1])
        #expect(try CPUList.parse("1,1,0-1") == [1, 0])   // duplicates dropped, order kept
    }

    @Test(arguments: ["", "a", "1-", "-1", "3-1", "1,,2", "0x1", "1-2-3", "99999", "1.5"])
    func rejectsBadLists(_ text: String) {
        #expect(throws: SwitchBenchError.self) { try CPUList.parse(text) }
        do { _ = try CPUList.parse(text) } catch let e as SwitchBenchError {
            #expect(e.exitCode == 2)
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func formatsShortest() {
        #expect(CPUList.format([0, 1, 2, 3, 8]) == "0-3,8")
        #expect(CPUList.format([3, 1, 2]) == "1-3")
        #expect(CPUList.format([0, 2, 4]) == "0,2,4")
        #expect(CPUList.format([]) == "")
    }

    @Test func roundTrip() throws {
        for s in ["0", "0-3,8", "1,3,5-7"] { #expect(CPUList.format(try CPUList.parse(s)) == s) }
    }

    @Test func crossPlacementPrefersNearest() {
        let topo = Topology(cpus: [
            0: .init(id: 0, core: [0, 4], llc: [0, 1, 4, 5], node: 0),
            1: .init(id: 1, core: [1, 5], llc: [0, 1, 4, 5], node: 0),
            2: .init(id: 2, core: [2], llc: [2, 3], node: 1),
            4: .init(id: 4, core: [0, 4], llc: [0, 1, 4, 5], node: 0),
        ])
        let p = topo.crossPlacement(tasks: 2, allowed: [0, 1, 2, 4])
        #expect(p.cpus == [0, 4])
        #expect(p.relation == "SMT siblings")
        let q = topo.crossPlacement(tasks: 3, allowed: [0, 2, 1])
        #expect(q.cpus == [0, 1, 2])
        #expect(q.relation == "same LLC")
        #expect(topo.relation(0, 2) == "other NUMA node")
        let wrap = topo.crossPlacement(tasks: 4, allowed: [0, 1])
        #expect(wrap.cpus == [0, 1, 0, 1])
        // One cross-cpu assignment per kind of pair, nearest first.
        let kinds = topo.crossPlacements(tasks: 2, allowed: [0, 1, 2, 4])
        #expect(kinds.map(\.relation) == ["SMT siblings", "same LLC", "other NUMA node"])
        #expect(kinds.map(\.cpus) == [[0, 4], [0, 1], [0, 2]])
    }

    @Test func affinityIsRestored() throws {
        let before = Affinity.current()
        try Affinity.pinned([before[0]]) { #expect(Affinity.current() == [before[0]]) }
        #expect(Affinity.current() == before)
    }
}
