#!/usr/bin/env bash
# Regenerate results/reference/ at HEAD: refuses a modified tree (commit first), builds, runs
# `switchbench --all --output results/reference`, checks that `switchbench report` regenerates the
# claims report from the CSV alone, checks that every row's git_commit is HEAD's commit without
# +dirty, rewrites README.md's table from the new run (scripts/reference-table.py), and README.md's
# harness list and docs/harnesses.md's table from the registry (scripts/harness-docs.py, a step that
# also runs alone). Then commit results/reference/, README.md and docs/harnesses.md.
#
#   scripts/make-reference.sh
# Environment: CONFIG=debug|release (default debug: what `swift run` builds; the measuring code has -O
# in both), QUICK=1 (a --all --quick run: to test this script, not to commit), OUT (default
# results/reference).
set -euo pipefail
cd "$(dirname "$0")/.."

config=${CONFIG:-debug}
out=${OUT:-results/reference}
quick=()
[ "${QUICK:-0}" = 1 ] && quick=(--quick)

if [ -n "$(git status --porcelain)" ]; then
  echo "make-reference: the tree has changes (git status --porcelain); commit or stash them first:" >&2
  git status --porcelain | head -20 >&2
  exit 2
fi
head=$(git rev-parse --short=12 HEAD)
echo "== HEAD $head ($(git log -1 --format=%s))"

echo "== swift build -c $config"
swift build -c "$config" --product switchbench
bin="$(swift build -c "$config" --show-bin-path)/switchbench"

# The run goes to a scratch directory first: the tree must still be clean while switchbench records its
# commit (it asks git at start), and a file the new run no longer writes must not survive in $out.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== switchbench --all ${quick[*]} --output $out (written to $tmp/run, then moved)"
start=$(date +%s)
"$bin" --all "${quick[@]}" --output "$tmp/run" > /dev/null
echo "took $(( $(date +%s) - start )) s"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp/run" "$out"

echo "== switchbench report $out (from the CSV alone, into a scratch directory)"
"$bin" report "$out" --output "$tmp" > /dev/null
test -s "$tmp/report.md"
if cmp -s "$tmp/report.md" "$out/report.md"; then
  echo "report.md from the CSV is identical to the run's"
else
  echo "note: report.md from the CSV differs from the run's in $(diff "$tmp/report.md" "$out/report.md" | grep -c '^[<>]') lines"
fi

echo "== git_commit of every row"
commits=$(python3 - "$out/results.csv" <<'EOF'
import csv, sys
print("\n".join(sorted({r["git_commit"] for r in csv.DictReader(open(sys.argv[1], newline=""))})))
EOF
)
rows=$(($(wc -l < "$out/results.csv") - 1))
if [ "$commits" != "$head" ]; then
  echo "make-reference: git_commit column is '$(echo "$commits" | tr '\n' ' ')', expected $head (HEAD, clean)" >&2
  exit 1
fi
if [ "$out" = results/reference ]; then
  echo "== README.md's table from the new run"
  python3 scripts/reference-table.py "$out" README.md
  echo "== README.md's harness list and docs/harnesses.md's table from the registry"
  BIN="$bin" python3 scripts/harness-docs.py
fi
echo "make-reference: $out: $rows rows at $head (clean). Commit it: git add -A $out README.md docs/harnesses.md && git commit -m 'results/reference at $head'"
