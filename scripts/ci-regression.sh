#!/usr/bin/env bash
# CI recipe for switchbench regressions (docs/ci-baselines.md).
#
#   scripts/ci-regression.sh [compare options]   quick run of $HARNESSES, compare with this machine's baseline
#                                                results/baselines/<machine id>.csv; exit with compare's status
#                                                (0 clean, 1 regression, 2 bad input or no baseline here,
#                                                3 baseline from another machine: not comparable, nothing gated,
#                                                4 --require-gate not met: see below)
#   scripts/ci-regression.sh --require-gate 25%   the same, and exit 4 (no regression found, but the gate cannot
#                                                see) when a group of the baseline cannot gate a 25 % slowdown:
#                                                its runs disagree too much (NOISY BASELINE), or it has one run.
#                                                compare.md's first line names those groups and from what size
#                                                each can gate (`switchbench compare --require-gate`).
#   scripts/ci-regression.sh --refresh            RUNS quick runs (default 3), concatenated into this machine's
#                                                baseline (compare then uses their spread as noise)
#
# The machine id is `switchbench env --machine-id`: CPU model, CPU family and model numbers, online CPU count
# and virtualization as a slug (e.g. intel-xeon-6-207-2cpu-kvm, amd-epyc-25-17-2cpu-kvm), never the host name.
# A baseline belongs to one kind of silicon: an Intel runner never finds an AMD baseline or one of another
# Intel generation, and compare refuses (exit 3) a baseline whose stepping or caches differ.
#
# Environment: BASELINE (default results/baselines/<machine id>.csv), OUT (run directory, default
# results/runs/ci-<UTC time>), CONFIG (swift build configuration, default release), BIN (a switchbench binary
# to use instead of building one), RUNS (for --refresh),
# HARNESSES (space-separated harness ids, default: the harnesses that declare a kind of switch, from
# `$BIN list --format json` (today syscall, coroutine, thread, process): the switch costs,
# whose rows are stable enough to gate on here; "all" runs --all, whose tlb/pollution rows move by
# 20-40 % between runs on a shared guest; use the same value for --refresh and for the check).
# CONFIRM (reruns of a flagged harness, default 2, 0: none; PAUSE s before each, default 10): a regression counts only when every rerun of its
# harness shows it again (scripts/confirm-regressions.sh, `compare --confirm`; docs/compare.md).
# Files written (the example workflow .github/workflows/switchbench-regression.yml reads them):
#   $OUT/compare.md                the comparison (Markdown, pasteable into a pull request; also printed)
#   $OUT/compare-first.csv, $OUT/confirm-<i>/   the comparison before reruns, and each rerun (only when one was flagged)
#   $OUT/benchmark-action.json     written by switchbench with every run (github-action-benchmark input)
#   $OUT/results.csv, results.md … every file of the run
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-results/runs/ci-$(date -u +%Y%m%dT%H%M%SZ)}
CONFIG=${CONFIG:-release}
refresh=0
if [ "${1:-}" = "--refresh" ]; then refresh=1; shift; fi

if [ -z "${BIN:-}" ]; then
    swift build -c "$CONFIG" --product switchbench >&2
    BIN="$(swift build -c "$CONFIG" --show-bin-path)/switchbench"
fi
MACHINE=$("$BIN" env --machine-id)
BASELINE=${BASELINE:-results/baselines/$MACHINE.csv}

if [ $refresh = 0 ] && [ ! -f "$BASELINE" ]; then
    echo "ci-regression: error: no baseline for this machine ($MACHINE) at $BASELINE: record one here with: scripts/ci-regression.sh --refresh   (then commit $BASELINE)" >&2
    exit 2
fi

# The switch-cost harnesses, from the binary (each declares its kinds of switch), in registry order.
default_harnesses() {
    "$BIN" list --format json | python3 -c 'import json, sys
print(" ".join(dict.fromkeys(k["harness"] for k in json.load(sys.stdin)["switch_kinds"])))'
}
HARNESSES=${HARNESSES:-$(default_harnesses)}
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
    echo "ci-regression: $BASELINE (machine $MACHINE) refreshed from $RUNS runs ($OUT-1 … $OUT-$RUNS)" >&2
    # What it can gate: compare warns (NOISY BASELINE) when its runs disagree.
    "$BIN" compare "$BASELINE" "$OUT-1" --format csv > /dev/null || true
    exit 0
fi

"$BIN" "${select[@]}" --quick --output "$OUT" --format csv > /dev/null

# A regression counts only when reruns of its harness show it again (CONFIRM, default 2; 0: off).
set +e
BIN="$BIN" RUN_ARGS=--quick scripts/confirm-regressions.sh "$BASELINE" "$OUT" "$@" > "$OUT/compare.md"
rc=$?
set -e
cat "$OUT/compare.md"
echo "ci-regression: machine $MACHINE, baseline $BASELINE, run $OUT, compare exit $rc" >&2
if [ "$rc" = 4 ]; then
    echo "ci-regression: exit 4: the baseline cannot gate the slowdown --require-gate asks for (first line of $OUT/compare.md); remake it in a quieter minute or from more runs: RUNS=5 scripts/ci-regression.sh --refresh" >&2
fi
exit $rc
