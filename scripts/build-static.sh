#!/usr/bin/env bash
# Build a portable switchbench for a fleet: release, Swift runtime linked in (--static-swift-stdlib),
# stripped. Prints what a target machine needs: the architecture, the shared libraries left
# (glibc's only) and the newest GLIBC_x.y symbol version the binary uses, read from the binary, and the
# commit written into it (-DSB_GIT_COMMIT: BuildInfo.gitCommit). The create harness's static helpers
# switchbench-proc and switchbench-noop are copied beside OUTPUT.
#
#   scripts/build-static.sh [OUTPUT]      default OUTPUT: .build/static/switchbench
#
# Environment: SWIFT_BUILD_FLAGS (extra flags for `swift build`, e.g. "--scratch-path .build-static").
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-.build/static/switchbench}
read -r -a extra <<< "${SWIFT_BUILD_FLAGS:-}"

# The commit goes into the binary (BuildInfo.gitCommit reads it first), so a run on a machine with no
# checkout still records it in git_commit.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit+dirty"; fi
echo "== swift build -c release --static-swift-stdlib -Xcc -DSB_GIT_COMMIT='\"$commit\"' ${extra[*]}"
start=$(date +%s)
swift build -c release --static-swift-stdlib --product switchbench -Xcc "-DSB_GIT_COMMIT=\"$commit\"" "${extra[@]}"
built=$(( $(date +%s) - start ))
bin="$(swift build -c release --static-swift-stdlib --show-bin-path "${extra[@]}")/switchbench"

mkdir -p "$(dirname "$out")"
cp "$bin" "$out"
strip "$out"

# The create harness's helpers (static C programs) must lie beside the binary: it looks for them there.
for helper in switchbench-proc switchbench-noop; do
  swift build -c release --static-swift-stdlib --product "$helper" -Xcc "-DSB_GIT_COMMIT=\"$commit\"" "${extra[@]}"
  cp "$(dirname "$bin")/$helper" "$(dirname "$out")/$helper"
  strip "$(dirname "$out")/$helper"
done

# The newest versioned glibc symbol the binary imports is the oldest glibc it can run on.
newest() { objdump -T "$out" | grep -o "$1_[0-9][0-9.]*" | sed "s/$1_//" | sort -t. -k1,1n -k2,2n -k3,3n | uniq | tail -1; }
glibc=$(newest GLIBC)
glibcxx=$(newest GLIBCXX)
why=$(objdump -T "$out" | awk -v v="GLIBC_$glibc" '$0 ~ "\\(?" v "\\)?[ \t]" {print $NF}' | sort -u | tr '\n' ' ')
needed=$(readelf -d "$out" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
arch=$(uname -m)

echo
echo "built:     $out ($(stat -c %s "$out") bytes stripped, $(stat -c %s "$bin") unstripped; build ${built} s)"
echo "arch:      $arch (Linux); build it on each architecture you run"
echo "needs:     glibc >= ${glibc:-unknown} (newest GLIBC_ symbol version imported, by: ${why:-?})"
[ -n "$glibcxx" ] && echo "           libstdc++ with GLIBCXX_$glibcxx (the system's libstdc++.so.6)"
echo "libraries: $needed"
if readelf -d "$out" | grep -q 'NEEDED.*libswift'; then
  echo "error: the binary still needs a Swift runtime library" >&2
  exit 1
fi
echo "no libswift*: the target needs no Swift toolchain"
echo "helpers:   $(dirname "$out")/switchbench-proc, $(dirname "$out")/switchbench-noop (static; copy them with the binary, same directory)"
echo "commit:    $commit (written into the binary: every run of it records git_commit $commit)"
