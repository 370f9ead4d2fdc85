#!/usr/bin/env bash
# Compare a run with a baseline; when that finds regressions, rerun the harnesses they belong to and
# count only the changes every rerun shows again (`switchbench compare --confirm`, docs/compare.md).
#
#   scripts/confirm-regressions.sh BASELINE RUN_DIR [compare options]
#
# Prints compare's output (Markdown unless the options say --format) and exits with compare's status.
# Writes RUN_DIR/compare-first.csv (the comparison before reruns) and RUN_DIR/confirm-<i>/ (each rerun).
# Environment: BIN (default .build/release/switchbench), CONFIRM (reruns, default 2; 0: none),
# RUN_ARGS (options of the run being confirmed, default --quick: the reruns must measure the same way),
# PAUSE (seconds to wait before each rerun, default 10: the host's slow phases last up to tens of seconds).
#
# Why: on a shared guest the host slows a vCPU by up to 1.4x in phases of 0.05 s to tens of seconds
# that nothing in the guest reports (docs/busy-machines.md), so one case of one run can sit wholly in
# one. A real regression is slower in every rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/confirm-regressions.sh BASELINE RUN_DIR [compare options]" >&2; exit 2; }
baseline=$1 run=$2
shift 2
BIN=${BIN:-.build/release/switchbench}
CONFIRM=${CONFIRM:-2}
PAUSE=${PAUSE:-10}
read -r -a run_args <<< "${RUN_ARGS:---quick}"

rc=0
"$BIN" compare "$baseline" "$run" "$@" --format csv > "$run/compare-first.csv" 2>/dev/null || rc=$?
confirm=()
if [ "$rc" = 1 ] && [ "$CONFIRM" -gt 0 ]; then
    # class and harness are the first two columns of compare's CSV and never quoted.
    read -r -a flagged <<< "$(awk -F, 'NR > 1 && $1 == "regression" { print $2 }' "$run/compare-first.csv" | sort -u | tr '\n' ' ')"
    echo "confirm-regressions: regression(s) in ${flagged[*]}; rerunning them $CONFIRM time(s), $PAUSE s apart, before counting" >&2
    for i in $(seq 1 "$CONFIRM"); do
        sleep "$PAUSE"
        "$BIN" run "${flagged[@]}" "${run_args[@]}" --output "$run/confirm-$i" --format csv > /dev/null
        confirm+=(--confirm "$run/confirm-$i")
    done
fi
rc=0
"$BIN" compare "$baseline" "$run" "${confirm[@]}" "$@" || rc=$?
exit "$rc"
