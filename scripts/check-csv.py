#!/usr/bin/env python3
"""Checks a switchbench CSV the way a downstream tool would read it: the columns the binary writes (taken
from `$BIN list --format json`, `csv_columns`, in that order), numbers where numbers belong, and same-cpu
switch rows proven by the kernel's count.
Usage: check-csv.py FILE [FILE...]; exits 1 with a message on the first problem.
Environment: BIN, the switchbench binary that wrote the files (default .build/release/switchbench; a
relative path is taken from the repository root, as the shell scripts do)."""
import csv, json, os, subprocess, sys

def fail(msg):
    print(f"check-csv: {msg}", file=sys.stderr)
    sys.exit(1)

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
binary = os.path.join(root, os.environ.get("BIN") or ".build/release/switchbench")
try:
    listing = subprocess.run([binary, "list", "--format", "json"], check=True, capture_output=True, text=True).stdout
except (OSError, subprocess.CalledProcessError) as e:
    fail(f"cannot read the column list from {binary} list --format json ({e}); set BIN to the binary that wrote the CSV")
COLUMNS = json.loads(listing)["csv_columns"]

for path in sys.argv[1:]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0].keys()) if rows else []
    if header != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        fail(f"{path}: header is not {binary}'s column list (missing: {', '.join(missing) or 'none'}; "
             f"unknown: {', '.join(unknown) or 'none'}{'; order differs' if not missing and not unknown else ''})")
    if not rows:
        fail(f"{path}: no rows")
    for i, r in enumerate(rows, 2):
        if r["valid"] not in ("true", "false"):
            fail(f"{path}:{i}: valid is {r['valid']!r}")
        for k in ("median", "min", "max", "cv", "switches_per_op"):
            if r[k]:
                float(r[k])
    ring = [r for r in rows if r["harness"] in ("process", "thread") and r["placement"] == "same-cpu"
            and r["metric"] == "round_trip" and r["tasks"] == "2"]
    if not ring:
        fail(f"{path}: no same-cpu process/thread round_trip rows")
    for r in ring:
        spo = float(r["switches_per_op"])
        if not 1.9 <= spo <= 2.2:
            fail(f"{path}: {r['harness']} {r['mechanism']} same-cpu: {spo} switches per round trip (expected 1.9-2.2)")
    harnesses = sorted({r["harness"] for r in rows})
    print(f"check-csv: {path}: {len(rows)} rows, harnesses {', '.join(harnesses)}, "
          f"{sum(r['valid'] == 'false' for r in rows)} invalid, same-cpu rings proven")
