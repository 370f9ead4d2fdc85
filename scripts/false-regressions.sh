#!/usr/bin/env bash
# How often compare cries wolf here: PAIRS pairs of back-to-back runs of unchanged code, each run
# compared with the one before it (a single-run baseline). Every regression it reports is false.
#
#   scripts/false-regressions.sh [PAIRS] [RUN ARGS...]     default: 5 pairs of `--all --quick`
#
# Needs a build (BIN, default .build/release/switchbench). Prints one line per pair and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-5}
shift || true
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--all --quick)
BIN=${BIN:-.build/release/switchbench}
# KEEP=DIR keeps every run and comparison there (a<i>, b<i>, c<i>.csv) for a closer look.
if [ -n "${KEEP:-}" ]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
total=0
for i in $(seq 1 "$PAIRS"); do
    "$BIN" "${args[@]}" --format csv --output "$tmp/a$i" > /dev/null 2>&1
    "$BIN" "${args[@]}" --format csv --output "$tmp/b$i" > /dev/null 2>&1
    rc=0
    "$BIN" compare "$tmp/a$i" "$tmp/b$i" --format csv > "$tmp/c$i.csv" 2>/dev/null || rc=$?
    n=$(grep -c '^regression,' "$tmp/c$i.csv" || true)
    total=$((total + n))
    echo "pair $i: compare exit $rc, $n regression(s)$( [ "$n" -gt 0 ] && grep '^regression,' "$tmp/c$i.csv" | cut -d, -f2-4,10 | tr '\n' ';' | sed 's/^/: /')"
done
echo "false regressions: $total in $PAIRS pairs"
