#!/usr/bin/env python3
"""Runs the same-cpu process and thread pipe rows several times back to back, alternating a debug
and a release build, and prints each row's median per run, the CV of those medians, and the
release/debug ratio. Usage: scripts/experiments/repeatability.py [RUNS] (builds both configurations first)."""
import csv, io, shutil, statistics, subprocess, sys, tempfile

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
args = ["run", "process", "thread", "--mechanism", "pipe,futex", "--placement", "same-cpu", "--quick",
        "--format", "csv", "--output"]
out = tempfile.mkdtemp(prefix="switchbench-repeatability-")   # private (0700), never a guessable name
bins = {}
for config in ("debug", "release"):
    subprocess.run(["swift", "build", "-c", config], check=True, stdout=subprocess.DEVNULL)
    bins[config] = subprocess.run(["swift", "build", "-c", config, "--show-bin-path"], check=True,
                                  capture_output=True, text=True).stdout.strip() + "/switchbench"
medians = {}
for i in range(runs):
    for config, b in bins.items():
        out_csv = subprocess.run([b] + args + [out], check=True, capture_output=True, text=True).stdout
        for r in csv.DictReader(io.StringIO(out_csv)):
            if r["metric"] == "round_trip":
                medians.setdefault((r["harness"], r["mechanism"], config), []).append(float(r["median"]))
shutil.rmtree(out, ignore_errors=True)
print(f"{'row':28} {'config':8} {'medians (ns)':48} {'CV':>6}")
for (h, m, c), v in sorted(medians.items()):
    cv = statistics.stdev(v) / statistics.mean(v) * 100 if len(v) > 1 else 0
    print(f"{h + ' ' + m + ' same-cpu':28} {c:8} {' '.join(f'{x:7.0f}' for x in v):48} {cv:5.1f}%")
for h, m, c in sorted(medians):
    if c == "debug":
        d, r = statistics.median(medians[(h, m, "debug")]), statistics.median(medians[(h, m, "release")])
        print(f"{h} {m}: release/debug = {r / d:.3f}")
