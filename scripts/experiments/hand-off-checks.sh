#!/bin/bash
# The per hand-off latency checks of docs/methodology.md ("Per hand-off latency, checked"):
#   ratio     same-cpu one-way p50 (and mean) ÷ the batch per_switch median, process and thread, pipe and futex, 5 runs
#   batch     the same ratio for the anatomy pairs (SCHED_BATCH: one path per hand-off), 5 runs
#   hog       stress-ng --cpu 1 pinned to the ring's CPU: share of hand-offs above p99.9 given a cause
#   timehist  perf sched timehist's scheduling delay beside our cross-cpu one-way latency and its split
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
batch)
    # The same ratio where every hand-off takes one path: the anatomy futex and pipe pairs run their tasks
    # under SCHED_BATCH (no wakeup preemption: every hand-off is a wake-up and a sleep).
    for i in 1 2 3 4 5; do
        "$BIN" run anatomy --mechanism futex,pipe --output "$T/b$i" > /dev/null
        echo "run $i ($(uptime | sed 's/.*load/load/'))"
        python3 - "$T/b$i/results.csv" <<'PY'
import csv, sys
d = {(r['mechanism'], r['metric']): r for r in csv.DictReader(open(sys.argv[1]))}
for (m, metric), r in sorted(d.items()):
    if metric.endswith('_hand_off'):
        b = d[(m, metric.replace('_hand_off', '_switch'))]
        print(f"anatomy {m:6} {metric:17} n={r['samples']:>6} p50={float(r['median']):8.1f} ns  "
              f"p50/batch={float(r['median']) / float(b['median']):.3f}  mean/batch={float(r['mean']) / float(b['median']):.3f}  valid={r['valid']}")
PY
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
    # perf sched record over a cross-cpu futex process ring (its tasks are named sb-ring-task); perf's
    # "sch delay" (wake-up to switch in, from sched_waking where recorded) beside our whole one-way latency
    # and its split from the same run's traced hand-offs (part_* facts: waker S→W, wake_to_run W→I, return I→R).
    echo "load: $(uptime | sed 's/.*load/load/')"
    # The ring's tasks are this run's children (other runs' rings on the machine are named alike).
    perf sched record -k CLOCK_MONOTONIC -o "$T/perf.data" -- sh -c 'echo $$ > "$0"; exec "$@"' "$T/pid" \
        "$BIN" run process --mechanism futex --placement cross-cpu --output "$T/th" > /dev/null 2>&1
    kids=$(perf script -i "$T/perf.data" 2> /dev/null | grep 'sched_process_fork:' | grep " pid=$(cat "$T/pid") " \
        | sed 's/.*child_pid=\([0-9]*\).*/\1/' | paste -sd,)
    echo "perf recorded: $(perf evlist -i "$T/perf.data" 2> /dev/null | grep -o 'sched:sched_wak[a-z]*' | tr '\n' ' ')"
    # Over the whole run, and over the traced run's window alone (its CLOCK_MONOTONIC edges are facts).
    # Each line: "<time> [cpu] sb-ring-task[pid] wait sch-delay run" (ms), printed at the switch out.
    perf sched timehist -i "$T/perf.data" --pid "$kids" 2> /dev/null | grep sb-ring-task > "$T/delays"
    win=$(python3 -c 'import csv, sys
r = next(r for r in csv.DictReader(open(sys.argv[1])) if r["metric"] == "hand_off_ab")
f = dict(kv.split("=", 1) for kv in r["facts"].split(";") if "=" in kv)
print("%.6f,%.6f" % (int(f["parts_window_start_ns"]) / 1e9, int(f["parts_window_end_ns"]) / 1e9))' "$T/th/results.csv")
    echo "traced window (CLOCK_MONOTONIC s): $win"
    perf sched timehist -i "$T/perf.data" --pid "$kids" --time "$win" 2> /dev/null | grep sb-ring-task > "$T/window"
    python3 - "$T/th/results.csv" "$T/delays" "$T/window" <<'PY'
import csv, re, sys
q = lambda s, x: s[max(0, min(len(s) - 1, -(-int(len(s) * x * 1000) // 1000) - 1))]
def delays(path):
    by = {}
    for line in open(path):
        m = re.search(r'sb-ring-task\[(\d+)', line)
        if m: by.setdefault(int(m.group(1)), []).append(float(line.split()[-2]) * 1e3)
    return {k: sorted(v) for k, v in by.items()}
whole, window = delays(sys.argv[2]), delays(sys.argv[3])
for name, d in (("whole run", whole), ("traced window", window)):
    a = sorted(x for v in d.values() for x in v)
    print(f"perf sched timehist, ring tasks' switches in, {name}: n={len(a)} sch delay p50={q(a, .5):.2f} us p99={q(a, .99):.2f} us")
# The ring's tasks start in order, so (pids not wrapping) the smaller pid is task 0: the wakee of B→A.
pids = sorted(window)
wakee = {'hand_off_ab': pids[-1], 'hand_off_ba': pids[0]} if len(pids) == 2 else {}
for r in csv.DictReader(open(sys.argv[1])):
    if r['metric'] not in ('hand_off_ab', 'hand_off_ba'):
        continue
    f = dict(kv.split('=', 1) for kv in r['facts'].split(';') if '=' in kv)
    print(f"switchbench {r['metric']}: whole (untraced) n={r['samples']} p50={float(r['median'])/1e3:.2f} us p99={float(r['p99'])/1e3:.2f} us")
    if 'parts_unavailable' in f:
        print(f"  parts n/a: {f['parts_unavailable']}"); continue
    print(f"  traced, split {f['parts_split']} (no waking {f['parts_no_waking']}, no switch in {f['parts_no_switch_in']}), wake event {f['parts_wake_event']}")
    for part in ('whole', 'waker', 'wake_to_run', 'return'):
        print(f"  {part:12} p50={float(f[f'part_{part}_p50_ns'])/1e3:7.2f} us  p99={float(f[f'part_{part}_p99_ns'])/1e3:7.2f} us")
    if r['metric'] not in wakee:
        print(f"  perf: {len(pids)} ring tasks in the window, not 2: no per-direction comparison"); continue
    d = window[wakee[r['metric']]]
    p50, p99, w50, w99 = q(d, .5), q(d, .99), float(f['part_wake_to_run_p50_ns']) / 1e3, float(f['part_wake_to_run_p99_ns']) / 1e3
    ok = abs(w50 / p50 - 1) <= .1 and abs(w99 / p99 - 1) <= .1
    print(f"  perf sch delay of its wakee (pid {wakee[r['metric']]}) in the window: n={len(d)} p50={p50:.2f} us p99={p99:.2f} us;"
          f" wake_to_run / perf: p50 {w50 / p50:.3f}, p99 {w99 / p99:.3f} ({'within' if ok else 'outside'} 10 %)")
PY
    ;;
*) echo "usage: $0 ratio|batch|hog|timehist" >&2; exit 2 ;;
esac
