#!/bin/bash
# The per hand-off latency checks of docs/methodology.md ("Per hand-off latency, checked"):
#   ratio     same-cpu one-way p50 (and mean) ÷ the batch per_switch median, process and thread, pipe and futex, 5 runs
#   hog       stress-ng --cpu 1 pinned to the ring's CPU: share of hand-offs above p99.9 given a cause
#   timehist  perf sched timehist's scheduling delay beside our cross-cpu one-way latency
# Needs root (tracefs) for the causes; stress-ng and linux-perf installed. BIN: the binary
# (default .build/release/switchbench). Each run goes to a temporary directory.
set -euo pipefail
BIN=${BIN:-.build/release/switchbench}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
what=${1:-ratio}
col() { python3 - "$@" <<'PY'
import csv, sys
d = {(r['harness'], r['mechanism'], r['placement'], r['metric']): r for r in csv.DictReader(open(sys.argv[1]))}
for (h, m, p, metric), r in sorted(d.items()):
    if metric.startswith('hand_off') and p == 'same-cpu':
        batch = d.get((h, m, p, 'round_trip' if metric == 'hand_off_round_trip' else 'per_switch'))
        ratio = float(r['median']) / float(batch['median']) if batch else float('nan')
        mean = float(r['mean']) / float(batch['median']) if batch else float('nan')
        facts = dict(kv.split('=', 1) for kv in r['facts'].split(';') if '=' in kv)
        inv = float(facts.get('involuntary_per_hand_off', 'nan'))
        print(f"{h:8} {m:6} {metric:20} n={r['samples']:>7} p50={float(r['median']):9.1f} ns  p50/batch={ratio:.3f}"
              f"  mean/batch={mean:.3f}  invol/hand-off={inv:.2f} interleaved={facts.get('stamps_interleaved', '?')}"
              f" valid={r['valid']}  causes: {r['tail_causes'][:160]}")
PY
}
case $what in
ratio)
    for i in 1 2 3 4 5; do
        "$BIN" run process thread --placement same-cpu --output "$T/r$i" > /dev/null
        echo "run $i ($(uptime | sed 's/.*load/load/'))"; col "$T/r$i/results.csv"
    done ;;
hog)
    cpu=${CPU:-0}
    stress-ng --cpu 1 --taskset "$cpu" --timeout 120s > /dev/null 2>&1 &
    hog=$!
    sleep 1
    "$BIN" run process thread --mechanism futex,pipe --placement same-cpu --cpus "$cpu" --output "$T/hog" > /dev/null || true
    kill "$hog"; wait "$hog" 2> /dev/null || true
    col "$T/hog/results.csv" ;;
timehist)
    perf sched record -o "$T/perf.data" -- "$BIN" run process --mechanism futex --placement cross-cpu --quick --output "$T/th" > /dev/null 2>&1
    perf sched timehist -i "$T/perf.data" 2> /dev/null | grep sb-ring-task | python3 -c '
import sys
d = sorted(float(l.split()[-2]) * 1e3 for l in sys.stdin)
q = lambda x: d[min(len(d) - 1, int(len(d) * x))]
print(f"perf sched timehist, ring tasks: n={len(d)} sch delay p50={q(.5):.1f} us p99={q(.99):.1f} us")'
    python3 - "$T/th/results.csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r['metric'] in ('hand_off_ab', 'hand_off_ba'):
        print(f"switchbench {r['metric']}: n={r['samples']} p50={float(r['median'])/1e3:.1f} us p99={float(r['p99'])/1e3:.1f} us")
PY
    ;;
*) echo "usage: $0 ratio|hog|timehist" >&2; exit 2 ;;
esac
