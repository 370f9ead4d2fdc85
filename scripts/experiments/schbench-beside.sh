#!/bin/bash
# schbench's wake-up latency percentiles beside our thread futex one-way rows, same placements,
# alternating (schbench, ours, schbench, ours …) so that a phase of the host hits both alike.
# schbench is never part of the project: build it in a temporary directory from masoncl/schbench
# (make) and pass its path. Usage: SCHBENCH=/tmp/schbench/schbench scripts/experiments/schbench-beside.sh [rounds]
set -euo pipefail
BIN=${BIN:-.build/debug/switchbench}
SCHBENCH=${SCHBENCH:?set SCHBENCH to a schbench binary built outside the project}
rounds=${1:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for i in $(seq 1 "$rounds"); do
    for p in same-cpu cross-cpu; do
        w=$([ $p = same-cpu ] && echo 0 || echo 1)
        # One message thread on CPU 0, one worker on CPU $w, no think time, no cache footprint.
        "$SCHBENCH" -m 1 -t 1 -M 0 -W "$w" -F 0 -n 0 -r 5 > "$T/s.txt" 2>&1 || true
        python3 - "$T/s.txt" "$p" "$i" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# The last "Wakeup Latencies" block: its percentile lines ("50.0th: 3 (1234 samples)").
block = text.rsplit("Wakeup Latencies", 1)[-1].split("Request Latencies")[0]
pct = dict(re.findall(r"\*?\s*([0-9.]+)th:\s+(\d+)", block))
print(f"round {sys.argv[3]} {sys.argv[2]:9} schbench wake-up (us): p50={pct.get('50.0')} p90={pct.get('90.0')} p99={pct.get('99.0')} p99.9={pct.get('99.9')}")
PY
        "$BIN" run thread --mechanism futex --placement "$p" --output "$T/o" > /dev/null
        python3 - "$T/o/results.csv" "$p" "$i" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r['metric'] in ('hand_off_ab', 'hand_off_ba'):
        us = lambda c: float(r[c]) / 1e3
        print(f"round {sys.argv[3]} {sys.argv[2]:9} switchbench {r['metric']} (us): p50={us('median'):.2f} p90={us('p90'):.2f}"
              f" p99={us('p99'):.2f} p99.9={us('p99_9'):.2f} n={r['samples']} valid={r['valid']}")
PY
    done
done
