import Testing
@testable import SwitchBench

/// Options a harness declares in its folder (`HarnessOption`): taken out of the command line of `run`
/// and `--all` before ArgumentParser, parsed by their declaration, handed over through `RunOptions`.
@Suite struct HarnessOptionTests {
    static let population = ManyTasks.populationOption

    @Test func declaredOptionsAreTakenOutOfTheCommandLine() throws {
        let args = ["run", "memory", "--population", "10,100", "--quick", "--stack-size=64K", "--", "--node", "1"]
        let (rest, given) = try HarnessOption.extract(args, options: Registry.options)
        #expect(rest == ["run", "memory", "--quick", "--", "--node", "1"])
        #expect(given == ["population": "10,100", "stack-size": "64K"])
    }

    @Test func aMissingOrRepeatedValueIsAOneLineError() {
        #expect(throws: SwitchBenchError.self) { try HarnessOption.extract(["--population"], options: [Self.population]) }
        #expect(throws: SwitchBenchError.self) { try HarnessOption.extract(["--population", "1", "--population=2"], options: [Self.population]) }
    }

    @Test func valuesParseByTheirDeclaration() throws {
        #expect(try Self.population.parse("1,10, 100") == [1, 10, 100])
        #expect(throws: SwitchBenchError.self) { try Self.population.parse("0") }
        #expect(throws: SwitchBenchError.self) { try Self.population.parse(",") }
        #expect(try MemoryHarness.stackSizeOption.parse("0,64K,1M") == [0, 64 << 10, 1 << 20])
        #expect(throws: SwitchBenchError.self) { try MemoryHarness.stackSizeOption.parse("2G") }
        #expect(try TLBHarness.nodeOption.parse("1") == [1])
        #expect(throws: SwitchBenchError.self) { try TLBHarness.nodeOption.parse("-1") }
    }

    @Test func theRegistryListsEachOptionOnceWithItsReaders() {
        let names = Registry.options.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Set(names) == Set(Registry.harnesses.flatMap(\.declaredOptions).map(\.name)))
        let help = Registry.optionsHelp
        #expect(help.contains("--population <10,1000>   (memory, events)"))
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    @Test func typedAccessorsReadTheSameValues() {
        var o = RunOptions()
        o.population = [20]
        o.node = 1
        #expect(o[Self.population] == [20] && o.harnessValues["node"] == [1])
        o.node = nil
        #expect(o.node == nil && o.harnessValues["node"] == nil)
    }
}
