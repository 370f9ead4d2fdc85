#!/usr/bin/env python3
"""Timing orderings the unit tests used to assert on real hardware, checked on real runs instead.

Usage: scripts/experiments/timing-orderings.py [RUNS]      (default 3; BIN as the other scripts)

The unit tests assert properties (switch counts, rows, facts, validity reasons); how long things take
is measured here. Each run is one `switchbench run` of the three harnesses below (--quick, CSV), and
each ordering is judged on the row medians of that run:

  tlb        4k ns_per_access at 65 536 pages > 3 x at 8 pages (the walk leaves every TLB level)
  pollution  flush rewalk_penalty_per_page > none at the smallest W (every translation flushed)
  blocking   max_gap with read_mode blocking >= T / 2, with nonblocking < T / 10 (T = write_delay_ns)

Prints one line per ordering and run (the values it compared, and whether the rows were valid), then
how many runs held each ordering. Exit 1 when an ordering failed in a run whose rows were all valid.
Run it under `flock /tmp/sb-measure.lock` on a shared machine and give the load (`uptime`) beside it."""
import csv, os, shutil, subprocess, sys, tempfile

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))   # the repository root
binary = os.environ.get("BIN", ".build/release/switchbench")
base = tempfile.mkdtemp(prefix="switchbench-orderings-")   # private (0700), never a guessable name


def rows(out, args):
    subprocess.run([binary, "run"] + args + ["--quick", "--format", "csv", "--output", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return list(csv.DictReader(open(f"{out}/results.csv")))


def pick(rs, **want):
    found = [r for r in rs if all(r[k] == v for k, v in want.items())]
    if len(found) != 1:
        raise SystemExit(f"timing-orderings: expected one row {want}, found {len(found)}")
    return found[0]


def fact(r, key):
    for kv in filter(None, r["facts"].split(";")):
        k, _, v = kv.partition("=")
        if k == key:
            return float(v)
    return None


def tlb(rs):
    small = pick(rs, mechanism="4k", metric="ns_per_access", working_set_pages="8")
    large = pick(rs, mechanism="4k", metric="ns_per_access", working_set_pages="65536")
    a, b = float(small["median"]), float(large["median"])
    return b > 3 * a, f"4k 65536 pages {b:.2f} ns vs 3 x 8 pages {3 * a:.2f} ns", [small, large]


def pollution(rs):
    ws = sorted({int(r["working_set_pages"]) for r in rs if r["metric"] == "rewalk_penalty_per_page"})
    w = str(ws[0])
    flush = pick(rs, mechanism="flush", metric="rewalk_penalty_per_page", working_set_pages=w)
    none = pick(rs, mechanism="none", metric="rewalk_penalty_per_page", working_set_pages=w)
    a, b = float(flush["median"]), float(none["median"])
    return a > b, f"W={w}: flush {a:.2f} ns/page vs none {b:.2f} ns/page", [flush, none]


def blocking(rs):
    held, said, used = True, [], []
    for m in sorted({r["mechanism"] for r in rs if r["harness"] == "blocking"}):
        blk = pick(rs, mechanism=m, metric="max_gap", read_mode="blocking")
        non = pick(rs, mechanism=m, metric="max_gap", read_mode="nonblocking")
        t = fact(blk, "write_delay_ns")
        g1, g2 = float(blk["median"]), float(non["median"])
        held = held and g1 >= t / 2 and g2 < t / 10
        said.append(f"{m}: blocking gap {g1 / 1e6:.2f} ms >= T/2 {t / 2e6:.1f} ms, non-blocking {g2 / 1e6:.3f} ms < T/10 {t / 1e7:.1f} ms")
        used += [blk, non]
    return held, "; ".join(said), used


checks = [("tlb", ["tlb", "--mechanism", "4k,control"], tlb),
          ("pollution", ["pollution", "--mechanism", "thread,none,flush"], pollution),
          ("blocking", ["blocking"], blocking)]
tally = {name: [0, 0] for name, _, _ in checks}
bad = False
try:
    for i in range(runs):
        for name, args, judge in checks:
            held, text, used = judge(rows(f"{base}/{i}-{name}", args))
            valid = all(r["valid"] == "true" for r in used)
            tally[name][0] += held
            tally[name][1] += 1
            bad = bad or (valid and not held)
            print(f"run {i + 1} {name:9} {'holds' if held else 'FAILS'}{'' if valid else ' (a row is invalid)'}: {text}")
finally:
    shutil.rmtree(base, ignore_errors=True)
for name, (h, n) in tally.items():
    print(f"{name}: held in {h} of {n} runs")
sys.exit(1 if bad else 0)
