#!/usr/bin/env bash
# Check that the portable binary runs where no Swift is installed: copy it (with the create harness's
# static helpers from beside it) into an empty directory, run `--all --quick` with an empty environment
# (env -i: PATH=/usr/bin:/bin, no LD_LIBRARY_PATH), and, when this user may make a mount namespace,
# with the Swift toolchain's directory hidden under an empty tmpfs. Exit 0 only when the run exits 0 and writes a results.csv
# with the contract columns, and `ldd` shows no libswift*.
#
#   scripts/check-static.sh [BINARY]    default: .build/static/switchbench, built by build-static.sh if absent
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin=${1:-.build/static/switchbench}
if [ ! -x "$bin" ]; then
  echo "== $bin missing: scripts/build-static.sh"
  bash scripts/build-static.sh "$bin"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
cp "$bin" "$tmp/bin/switchbench"
# with the create harness's helpers, which build-static.sh puts beside the binary
for helper in switchbench-proc switchbench-noop; do
  if [ ! -x "$(dirname "$bin")/$helper" ]; then
    echo "check-static: FAIL: $(dirname "$bin")/$helper missing (scripts/build-static.sh puts it beside the binary)" >&2
    exit 1
  fi
  cp "$(dirname "$bin")/$helper" "$tmp/bin/$helper"
done
exe="$tmp/bin/switchbench"
echo "== $exe ($(stat -c %s "$exe") bytes) with switchbench-proc and switchbench-noop, alone in an empty directory"

echo "== ldd"
ldd "$exe" | sed 's/^/   /'
for helper in switchbench-proc switchbench-noop; do
  if ldd "$tmp/bin/$helper" >/dev/null 2>&1; then
    echo "check-static: FAIL: $helper is not a static executable" >&2
    exit 1
  fi
done
if ldd "$exe" | grep -q 'libswift'; then
  echo "check-static: FAIL: the binary needs a Swift runtime library" >&2
  exit 1
fi

# Hide the toolchain too where we can: the directory above usr/bin/swift, unless that is / (a system package).
hide=""
if swift_path=$(command -v swift 2>/dev/null); then
  root=$(dirname "$(dirname "$(dirname "$(readlink -f "$swift_path")")")")
  if [ "$root" != "/" ] && [ -d "$root" ] && unshare -m true 2>/dev/null; then hide=$root; fi
fi

run=(env -i PATH=/usr/bin:/bin HOME="$tmp" "$exe" --all --quick --output "$tmp/run")
echo "== cd $tmp && ${run[*]}${hide:+   (with $hide hidden by an empty tmpfs)}"
start=$(date +%s)
set +e
if [ -n "$hide" ]; then
  (cd "$tmp" && unshare -m sh -c 'mount -t tmpfs none "$1" && shift && ! command -v swift >/dev/null && exec "$@"' \
     sh "$hide" "${run[@]}" > "$tmp/stdout.md" 2> "$tmp/stderr.txt")
else
  (cd "$tmp" && "${run[@]}" > "$tmp/stdout.md" 2> "$tmp/stderr.txt")
fi
rc=$?
set -e
secs=$(( $(date +%s) - start ))
tail -3 "$tmp/stderr.txt" | sed 's/^/   /'
if [ "$rc" -ne 0 ]; then
  echo "check-static: FAIL: exit $rc after ${secs} s; stderr:" >&2
  tail -20 "$tmp/stderr.txt" >&2
  exit 1
fi
csv="$tmp/run/results.csv"
if [ ! -s "$csv" ]; then
  echo "check-static: FAIL: no results.csv" >&2
  exit 1
fi
if command -v python3 >/dev/null 2>&1; then
  BIN="$exe" python3 "$repo/scripts/check-csv.py" "$csv"   # the columns of the binary that wrote it
  python3 - "$csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print("   build", sorted({r["build"] for r in rows}), "git_commit", sorted({r["git_commit"] for r in rows}))
missing = [r for r in rows if r["harness"] == "create" and "missing helper" in r["note"]]
if missing:
    sys.exit("check-static: FAIL: create rows without their helper: " + missing[0]["note"][:160])
for r in rows:
    if r["valid"] == "false":
        print("   invalid (informative):", r["harness"], r["mechanism"], r["placement"], r["metric"], "-", r["note"][:120])
EOF
else
  head -1 "$csv" | grep -q '^suite_version,run_id,' || { echo "check-static: FAIL: results.csv has no header" >&2; exit 1; }
fi
echo "check-static: PASS: --all --quick exit 0 in ${secs} s, $(($(wc -l < "$csv") - 1)) rows, no Swift on PATH${hide:+ or at $hide}, LD_LIBRARY_PATH unset"
