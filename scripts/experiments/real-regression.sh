#!/usr/bin/env bash
# Does the CI gate catch a regression that is really there, and only that? On this machine, now:
#   1. a baseline of RUNS quick runs of the gate set (default 3, as `ci-regression.sh --refresh` makes);
#   2. a control run, compared through scripts/confirm-regressions.sh (reruns of what it flags): must exit 0;
#   3. a run with every system call slowed by a seccomp filter of SLOW instructions (scripts/experiments/slow-syscalls.c,
#      built with cc; default 1000: getppid about 2x, a pipe hop 1.5-2x, the ucontext coroutine 1.3-1.9x
#      here), compared the same way (its reruns slowed too): must exit 1, and no row that makes no system
#      call (the asm coroutines) may be among the regressions. Rows too noisy to judge are shown `noisy`,
#      not gated, so which slowed rows are caught depends on the machine's noise at the time.
#
#   scripts/experiments/real-regression.sh        exit 0 when both hold; prints what compare said
#
# Environment: BIN (default .build/release/switchbench), RUNS, SLOW, HARNESSES (default the gate set of
# ci-regression.sh: the harnesses that declare a kind of switch, from `$BIN list --format json`), PAUSE and CONFIRM (confirm-regressions.sh),
# KEEP=DIR to keep the runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${BIN:-.build/release/switchbench}")
RUNS=${RUNS:-3}
SLOW=${SLOW:-1000}
gate=$("$BIN" list --format json | python3 -c 'import json, sys
print(" ".join(dict.fromkeys(k["harness"] for k in json.load(sys.stdin)["switch_kinds"])))')
read -r -a harnesses <<< "${HARNESSES:-$gate}"
if [ -n "${KEEP:-}" ]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi

cc -O2 -Wall -o "$tmp/slow-syscalls" scripts/experiments/slow-syscalls.c
printf '#!/bin/sh\nexec "%s" %s "%s" "$@"\n' "$tmp/slow-syscalls" "$SLOW" "$BIN" > "$tmp/switchbench-slow"
chmod +x "$tmp/switchbench-slow"

# The baseline as CI makes it (it warns when its runs disagree: NOISY BASELINE).
BIN=$BIN BASELINE="$tmp/baseline.csv" OUT="$tmp/base" RUNS=$RUNS HARNESSES="${harnesses[*]}" scripts/ci-regression.sh --refresh 2>&1 \
    | grep -E '^switchbench: warning: NOISY' || true

judge() {   # NAME BIN: run with BIN, compare through the reruns; prints "exit N" and the regressions
    local name=$1 bin=$2 rc=0
    "$bin" run "${harnesses[@]}" --quick --format csv --output "$tmp/$name" > /dev/null 2>&1
    BIN=$bin RUN_ARGS=--quick scripts/confirm-regressions.sh "$tmp/baseline.csv" "$tmp/$name" --format csv > "$tmp/$name.compare.csv" 2>/dev/null || rc=$?
    echo "$name: compare exit $rc (first comparison: $(grep -c '^regression,' "$tmp/$name/compare-first.csv" || true) regression(s))"
    grep '^regression,' "$tmp/$name.compare.csv" | cut -d, -f2-4,10,12-14 | sed 's/^/  regression: /' || true
    return $rc
}

ok=1
rc=0; judge control "$BIN" || rc=$?
[ $rc = 0 ] || { echo "real-regression: FAIL: the control run (nothing changed) was gated (exit $rc)"; ok=0; }
rc=0; judge slowed "$tmp/switchbench-slow" || rc=$?
if [ $rc != 1 ]; then
    echo "real-regression: FAIL: every system call slowed, and compare exit $rc (expected 1)"; ok=0
elif grep -Eq '^regression,coroutine,asm' "$tmp/slowed.compare.csv"; then
    echo "real-regression: FAIL: an asm coroutine row (no system call) was gated: a false regression"; ok=0
fi
[ $ok = 1 ] && echo "real-regression: PASS (control not gated; slowed system calls gated, confirmed by every rerun)"
[ $ok = 1 ]
