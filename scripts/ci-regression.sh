#!/usr/bin/env bash
# CI recipe for switchbench regressions (README, "Comparing runs and CI").
#
#   scripts/ci-regression.sh [compare options]   quick run of $HARNESSES, compare with results/baseline.csv,
#                                                exit with compare's status (0 clean, 1 regression, 2 bad input)
#   scripts/ci-regression.sh --refresh            RUNS quick runs (default 3), concatenated into the new
#                                                results/baseline.csv (compare then uses their spread as noise)
#
# Environment: BASELINE (default results/baseline.csv), OUT (run directory, default
# results/runs/ci-<UTC time>), CONFIG (swift build configuration, default release), RUNS (for --refresh),
# HARNESSES (space-separated harness ids, default "syscall thread process coroutine": the switch costs,
# whose rows are stable enough to gate on here; "all" runs --all, whose tlb/pollution rows move by
# 20-40 % between runs on a shared guest; use the same value for --refresh and for the check).
# The comparison (Markdown, pasteable into a pull request) is printed and kept as $OUT/compare.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=${BASELINE:-results/baseline.csv}
OUT=${OUT:-results/runs/ci-$(date -u +%Y%m%dT%H%M%SZ)}
CONFIG=${CONFIG:-release}
refresh=0
if [ "${1:-}" = "--refresh" ]; then refresh=1; shift; fi

if [ $refresh = 0 ] && [ ! -f "$BASELINE" ]; then
    echo "ci-regression: error: no baseline at $BASELINE; make one with: scripts/ci-regression.sh --refresh" >&2
    exit 2
fi

swift build -c "$CONFIG" --product switchbench >&2
BIN="$(swift build -c "$CONFIG" --show-bin-path)/switchbench"

HARNESSES=${HARNESSES:-syscall thread process coroutine}
if [ "$HARNESSES" = all ]; then select=(--all); else select=(run $HARNESSES); fi

# A failed case makes a run exit 1, which ends the script here with 1 as well.
if [ $refresh = 1 ]; then
    RUNS=${RUNS:-3}
    tmp="$BASELINE.tmp-$$"
    mkdir -p "$(dirname "$BASELINE")"
    for i in $(seq 1 "$RUNS"); do
        "$BIN" "${select[@]}" --quick --output "$OUT-$i" --format csv > /dev/null
        if [ "$i" = 1 ]; then cat "$OUT-$i/results.csv"; else tail -n +2 "$OUT-$i/results.csv"; fi
    done > "$tmp"
    mv "$tmp" "$BASELINE"
    echo "ci-regression: $BASELINE refreshed from $RUNS runs ($OUT-1 … $OUT-$RUNS)" >&2
    exit 0
fi

"$BIN" "${select[@]}" --quick --output "$OUT" --format csv > /dev/null

set +e
"$BIN" compare "$BASELINE" "$OUT" "$@" > "$OUT/compare.md"
rc=$?
set -e
cat "$OUT/compare.md"
exit $rc
