#!/usr/bin/env bash
# How often compare cries wolf here: PAIRS pairs of back-to-back runs of unchanged code, each run
# compared with the one before it (a single-run baseline). Every regression it reports is false.
#
#   scripts/experiments/false-regressions.sh [PAIRS] [RUN ARGS...]     default: 5 pairs of `--all --quick`
#
# Needs a build (BIN, default .build/release/switchbench). Prints two lines per pair and the totals: what
# compare says from one run, and what it says after rerunning the flagged harnesses
# (scripts/confirm-regressions.sh, CONFIRM reruns, default 2), which is what scripts/ci-regression.sh gates on.
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=${1:-5}
shift || true
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--all --quick)
BIN=${BIN:-.build/release/switchbench}
# The reruns take the run's options, not its selection (--all, `run` and harness ids).
opts=(); in_opts=0
for a in "${args[@]}"; do
    [ "$a" = --all ] && continue
    case $a in -*) in_opts=1 ;; esac
    [ $in_opts = 1 ] && opts+=("$a")
done
# KEEP=DIR keeps every run and comparison there (a<i>, b<i>, c<i>.csv) for a closer look.
if [ -n "${KEEP:-}" ]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
total=0 raw=0
for i in $(seq 1 "$PAIRS"); do
    "$BIN" "${args[@]}" --format csv --output "$tmp/a$i" > /dev/null 2>&1
    "$BIN" "${args[@]}" --format csv --output "$tmp/b$i" > /dev/null 2>&1
    # First compare alone (what one run says), then with reruns of the flagged harnesses, as CI gates.
    rc=0
    BIN="$BIN" RUN_ARGS="${opts[*]}" scripts/confirm-regressions.sh "$tmp/a$i" "$tmp/b$i" --format csv > "$tmp/c$i.csv" 2>/dev/null || rc=$?
    first=$(grep -c '^regression,' "$tmp/b$i/compare-first.csv" || true)
    n=$(grep -c '^regression,' "$tmp/c$i.csv" || true)
    raw=$((raw + first)); total=$((total + n))
    list() { grep '^regression,' "$1" | cut -d, -f2-4,10 | tr '\n' ';' | sed 's/^/: /'; }
    echo "pair $i: one run: $first regression(s)$( [ "$first" -gt 0 ] && list "$tmp/b$i/compare-first.csv")"
    echo "pair $i: after reruns: compare exit $rc, $n regression(s)$( [ "$n" -gt 0 ] && list "$tmp/c$i.csv")"
done
echo "false regressions: $raw in $PAIRS pairs from one run; $total after reruns of the flagged harnesses (CONFIRM=${CONFIRM:-2})"
