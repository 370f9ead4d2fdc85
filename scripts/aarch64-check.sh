#!/usr/bin/env bash
# Builds the coroutine switch (Sources/CSwitchBench/switch_*.S + coro.c) with a small C test
# driver (scripts/coro_driver.c) for aarch64 and runs it under qemu-aarch64; also natively.
# Installs Debian's gcc-aarch64-linux-gnu and qemu-user first when they are missing (needs root).
# Prints PASS/FAIL per target; exit 0 when every target passed, 1 otherwise, 2 when the tools
# could not be installed.
set -u
cd "$(dirname "$0")/.."
start=$(date +%s%N)
src=(scripts/coro_driver.c Sources/CSwitchBench/coro.c Sources/CSwitchBench/switch_x86_64.S Sources/CSwitchBench/switch_aarch64.S)
inc=(-ISources/CSwitchBench/include)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    echo "aarch64-check: installing gcc-aarch64-linux-gnu qemu-user" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; } >"$out/apt.log" 2>&1; then
        tail -5 "$out/apt.log" >&2
        echo "aarch64-check: FAIL: could not install the cross compiler and qemu" >&2
        exit 2
    fi
fi

status=0
run() {  # name, compiler, runner...
    local name=$1 cc=$2; shift 2
    local exe="$out/${name%% *}"
    if ! "$cc" -O2 -Wall "${inc[@]}" "${src[@]}" -o "$exe" 2>"$out/build.log"; then
        echo "$name: FAIL (build)"; cat "$out/build.log"; status=1; return
    fi
    local line
    if line=$("$@" "$exe" 2>&1); then echo "$name: $line"; else echo "$name: ${line:-FAIL (exit $?)}"; status=1; fi
}
host=$(uname -m)
run "$host (native)" gcc
[ "$host" != aarch64 ] && run "aarch64 (qemu)" aarch64-linux-gnu-gcc qemu-aarch64 -L /usr/aarch64-linux-gnu
# ns per switch under qemu is emulation time, not a measurement of any aarch64 machine.
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'aarch64-check: %s in %d.%03d s\n' "$([ $status -eq 0 ] && echo PASS || echo FAIL)" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
exit $status
