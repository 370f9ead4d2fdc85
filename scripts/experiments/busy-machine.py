#!/usr/bin/env python3
"""Quiet and loaded runs, interleaved: how much a busy machine moves the numbers (docs/busy-machines.md).

Usage: scripts/experiments/busy-machine.py [PAIRS] [-- RUN ARGS...]
  default run args: syscall coroutine thread process --placement same-cpu --quick
Each pair is one quiet run, then one run under `stress-ng --cpu $(nproc)` (started 1 s before, stopped
after). Needs a release build (.build/release/switchbench) and stress-ng. Prints, for the rows issue 8
names, the median over pairs of each row's median quiet and loaded, loaded ÷ quiet, and the samples
retaken; then every valid row off by more than 1.25× either way; then the verdicts of every claim of each run."""
import json, csv, os, re, statistics, subprocess, sys, tempfile, time

argv = sys.argv[1:]
pairs = 3
if argv and argv[0].isdigit():
    pairs = int(argv.pop(0))
if argv and argv[0] == "--":
    argv.pop(0)
args = argv or ["syscall", "coroutine", "thread", "process", "--placement", "same-cpu", "--quick"]
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))   # the repository root
binary = os.environ.get("BIN", ".build/release/switchbench")   # as the shell scripts: BIN
base = tempfile.mkdtemp(prefix="switchbench-busy-")   # private (0700), never a guessable name

FOCUS = [("syscall", "getppid", "same-cpu", "per_call"), ("coroutine", "asm", "same-cpu", "round_trip"),
         ("coroutine", "ucontext", "same-cpu", "round_trip")] + [
    (h, m, "same-cpu", "round_trip") for h in ("process", "thread") for m in ("pipe", "futex")]

def run(name, loaded):
    out = f"{base}/{name}"
    hog = subprocess.Popen(["stress-ng", "--cpu", str(os.cpu_count()), "--timeout", "600"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if loaded else None
    if hog: time.sleep(1)
    t0 = time.time()
    subprocess.run([binary] + ([] if args[0] == "--all" else ["run"]) + args + ["--format", "csv", "--output", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.time() - t0
    if hog:
        hog.terminate(); hog.wait()
    rows = {}
    for r in csv.DictReader(open(f"{out}/results.csv")):
        key = (r["harness"], r["mechanism"], r["placement"], r["metric"], r["cpus"], r["tasks"],
               r["footprint_bytes"], r["page_size_bytes"], r["working_set_pages"],
               r.get("burst", ""), r.get("tlb_level", ""), r.get("read_mode", ""))   # the case parameters (docs/csv.md)
        rows[key] = r
    # The verdicts from results.json's canonical record (`claims`), never from report.md.
    verdicts = {c["id"]: c["verdict"] for c in json.load(open(f"{out}/results.json")).get("claims", [])}
    return rows, verdicts, took

runs = []
for i in range(pairs):
    for loaded in (False, True):
        name = f"{i}-{'loaded' if loaded else 'quiet'}"
        rows, verdicts, took = run(name, loaded)
        runs.append((loaded, rows, verdicts, took))
        shown = " ".join(k + "=" + v.replace(" ", "-") for k, v in sorted(verdicts.items()))
        print(f"run {name}: {took:.1f} s, verdicts {shown}", flush=True)

def pick(loaded):
    return [r for l, r, _, _ in runs if l == loaded]

def med(key, rows):
    v = [float(r[key]["median"]) for r in rows if key in r and r[key]["median"]]
    return statistics.median(v) if v else None

print(f"\n{'row':42} {'quiet ns':>9} {'loaded ns':>10} {'L/Q':>5}  retaken quiet | loaded   valid quiet | loaded   stolen loaded")
for f in FOCUS:
    for key in sorted({k for _, r, _, _ in runs for k in r if k[:4] == f}):
        q, l = med(key, pick(False)), med(key, pick(True))
        ret = lambda rows: ",".join(r[key]["samples_retaken"] or "-" for r in rows if key in r)
        val = lambda rows: ",".join("T" if r[key]["valid"] == "true" else "F" for r in rows if key in r)
        st = ",".join(r[key]["stolen_fraction"] or "-" for r in pick(True) if key in r)
        name = "/".join(key[:2]) + " " + key[2] + " " + key[3]
        print(f"{name:42} {q:9.1f} {l:10.1f} {l / q:5.2f}  {ret(pick(False)):>13} | {ret(pick(True)):<8} {val(pick(False)):>11} | {val(pick(True)):<8} {st}")

print("\nvalid rows (every loaded run valid) off by more than 1.25x, loaded/quiet of the medians over pairs:")
keys = set.intersection(*[set(r) for _, r, _, _ in runs])
off = 0
for key in sorted(keys):
    if not all(r[key]["valid"] == "true" for r in pick(True)):
        continue
    q, l = med(key, pick(False)), med(key, pick(True))
    if q and l and q > 0 and l > 0 and (l / q > 1.25 or q / l > 1.25):
        off += 1
        print(f"  {'/'.join(key[:4])} cpus {key[4]}: quiet {q:.1f} loaded {l:.1f} ({l / q:.2f}x)")
print(f"  {off} row(s)")
