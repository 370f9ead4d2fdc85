#!/usr/bin/env bash
# Our same-cpu pipe round trips side by side with `perf bench sched pipe` (and -T), interleaved
# A B A B on the same CPU. Extra arguments go to `switchbench validate` (--rounds, --loops, --cpu,
# --tolerance, --perf). Exit: 0 agree, 1 disagree, 2 perf missing or bad input.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift run -c "${CONFIG:-debug}" switchbench validate "$@"
