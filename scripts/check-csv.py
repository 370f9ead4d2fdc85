#!/usr/bin/env python3
"""Checks a switchbench CSV the way a downstream tool would read it: the column contract of
docs/csv.md, numbers where numbers belong, and same-cpu switch rows proven by the kernel's count.
Usage: check-csv.py FILE [FILE...]; exits 1 with a message on the first problem."""
import csv, sys

CONTRACT = ("suite_version run_id timestamp_utc host kernel cpu_model virtualization build harness mechanism "
            "placement cpus tasks footprint_bytes page_size_bytes working_set_pages metric unit samples "
            "ops_per_sample median min mean max stddev cv ci95_low ci95_high outliers switches_per_op valid note").split()

def fail(msg):
    print(f"check-csv: {msg}", file=sys.stderr)
    sys.exit(1)

for path in sys.argv[1:]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        header = list(rows[0].keys()) if rows else []
    if header[:len(CONTRACT)] != CONTRACT:
        fail(f"{path}: header does not start with the contract columns")
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
