#!/usr/bin/env bash
# The fleet playbook tested for real (.ci/run calls it; docs/fleet.md). Needs ansible-playbook, sshd,
# ssh-keygen, python3 and root.
#
#   fleet/test-fleet.sh            every case below, into a temporary directory
#
# It starts an sshd on a free loopback port (127.0.0.1 only) with a host key and a client key generated in a
# temporary directory, stopped at the end (trap). Inventory: `localhost` (local connection) and
# `127.0.0.1` over that ssh; both are this machine, so each gets its own remote directory and its own
# column (the side-by-side page numbers them M1a, M1b: one machine, two runs; its "read from" row names
# fleet-runs/<inventory host>/).
# Cases:
#   two      two hosts, in parallel: exit 0; one machines.md (and machines.zh.md) with two columns; each
#            fetched results.csv's git_commit is the commit written into the binary (the one build-static.sh
#            printed), never `unknown`.
#   down     the two in the group switchbench_serial (they share a physical host: one at a time) plus `down`,
#            127.0.0.1 on a port where nothing listens: exit non-zero, `down` named with why, two columns.
#   glibc    127.0.0.1 told its binary needs glibc 9.99 (switchbench_required_glibc): that host stops with
#            one line naming the check and the host; localhost is measured; exit non-zero.
#   running  a process named switchbench already runs: both hosts stop at that pre-check; exit non-zero.
#   gate     scripts/ci-regression.sh --require-gate 25% with a baseline whose three runs disagree by
#            ±30 % (exit 4, its first line naming the groups) and one whose runs agree within 1 % (not 4).
# The whole test runs in its own PID namespace (unshare, root), so the running pre-check sees only the
# processes this test starts (other builds and tests on the machine may run switchbench at the same time).
#
# Environment: SWITCHBENCH_BINARY (use this binary; default: the playbook builds it with
# scripts/build-static.sh in the first case), KEEP=1 (keep the temporary directory), HARNESSES (default
# "syscall coroutine", run with --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -z "${SB_FLEET_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null; then
    exec env SB_FLEET_NS=1 unshare --pid --fork --mount-proc bash "$0" "$@"
fi

fail() { echo "test-fleet: FAIL: $*" >&2; exit 1; }
for tool in ansible-playbook /usr/sbin/sshd ssh-keygen python3; do
    command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install ansible-core openssh-server python3)"
done
[ "$(id -u)" = 0 ] || fail "run as root (sshd on a loopback port, the running pre-check)"

# Another user of the machine (nobody) makes, before any play, every path the playbook once used: the fixed
# /tmp/switchbench-fleet/<host>/ (mode 0777), with a fake switchbench in it. The test's own /tmp is a
# tmpfs in its own mount namespace (as its PID namespace), so these paths never meet the machine's /tmp;
# its files go to /var/tmp (KEEP=1 keeps them). SWITCHBENCH_BINARY must not lie under /tmp.
if [ -n "${SB_FLEET_NS:-}" ]; then
    case ${SWITCHBENCH_BINARY:-} in /tmp/*) fail "SWITCHBENCH_BINARY under /tmp: the test mounts a /tmp of its own; put it elsewhere";; esac
    mount -t tmpfs -o mode=1777,size=1g sb-fleet-tmp /tmp || fail "cannot mount a tmpfs of the test's own on /tmp"
fi
tmp=$(mktemp -d /var/tmp/sb-fleet-test.XXXXXX)
sshd_pid=
fake_pid=
cleanup() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
    [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "test-fleet: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
closed=$(free_port)
[ "$port" != "$closed" ] || closed=$(free_port)

# sshd on 127.0.0.1:$port, keys of its own
ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/client_key"
cp "$tmp/client_key.pub" "$tmp/authorized_keys"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$tmp/host_key.pub")" > "$tmp/known_hosts"
cat > "$tmp/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
mkdir -p /run/sshd   # privilege separation directory (what the package's service would make)
/usr/sbin/sshd -D -f "$tmp/sshd_config" -E "$tmp/sshd.log" &
sshd_pid=$!
for _ in $(seq 1 50); do
    ssh -q -o BatchMode=yes -o UserKnownHostsFile="$tmp/known_hosts" -o IdentitiesOnly=yes -i "$tmp/client_key" \
        -p "$port" root@127.0.0.1 true 2>/dev/null && break
    sleep 0.2
done
ssh -q -o BatchMode=yes -o UserKnownHostsFile="$tmp/known_hosts" -o IdentitiesOnly=yes -i "$tmp/client_key" \
    -p "$port" root@127.0.0.1 true || fail "sshd on 127.0.0.1:$port does not take the key (log: $(cat "$tmp/sshd.log"))"
echo "test-fleet: sshd on 127.0.0.1:$port (pid $sshd_pid); nothing listens on 127.0.0.1:$closed"

# inventory HOSTS... (each: localhost | ssh | down), extra YAML for a host after '+'; groups via GROUP=serial
inventory() {
    local out=$1 serial=$2; shift 2
    {
        echo "all:"
        echo "  vars:"
        echo "    ansible_python_interpreter: /usr/bin/python3"
        echo "    ansible_user: root"
        echo "    ansible_ssh_private_key_file: $tmp/client_key"
        echo "    ansible_ssh_common_args: '-o UserKnownHostsFile=$tmp/known_hosts -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5'"
        echo "  hosts:"
        for h in "$@"; do
            case $h in
                localhost) echo "    localhost: {ansible_connection: local}" ;;
                local-b) echo "    local-b: {ansible_connection: local}" ;;
                ssh) echo "    127.0.0.1: {ansible_port: $port}" ;;
                ssh-glibc) echo "    127.0.0.1: {ansible_port: $port, switchbench_required_glibc: '9.99'}" ;;
                down) echo "    down: {ansible_host: 127.0.0.1, ansible_port: $closed}" ;;
            esac
        done
        if [ "$serial" = serial ]; then
            echo "  children:"
            echo "    switchbench_serial:"
            echo "      hosts:"
            echo "        localhost:"
            echo "        127.0.0.1:"
        fi
    } > "$out"
}

# nobody's paths: the old playbook's directory for each host the cases name, and a fake binary in each
old_dir=/tmp/switchbench-fleet
if [ -e "$old_dir" ] && [ "$(stat -c %U "$old_dir")" != nobody ]; then
    fail "$old_dir exists and is not nobody's (the test needs a /tmp of its own: run it as root, where unshare works)"
fi
runuser -u nobody -- sh -c "umask 0; mkdir -p $old_dir && chmod 0777 $old_dir" || fail "nobody cannot make $old_dir"
for h in localhost 127.0.0.1 down local-b; do
    runuser -u nobody -- sh -c "umask 0; mkdir -p $old_dir/$h && printf '#!/bin/sh\\ntouch $old_dir/hijacked-$h\\n' > $old_dir/$h/switchbench && chmod 0777 $old_dir/$h $old_dir/$h/switchbench"
done
snapshot() { find "$old_dir" -printf '%p %u %m %s %T@\n' | sort; }
snapshot > "$tmp/nobody.before"
echo "test-fleet: nobody made $old_dir/{localhost,127.0.0.1,down,local-b}/ (mode 0777, each with a fake switchbench): $(wc -l < "$tmp/nobody.before") paths"
# after every play: nothing of nobody's was written, replaced or run (the fakes would touch hijacked-<host>)
nobody_untouched() {
    snapshot > "$tmp/nobody.after"
    diff "$tmp/nobody.before" "$tmp/nobody.after" > "$tmp/nobody.diff" || fail "case $1: the play changed what nobody made: $(cat "$tmp/nobody.diff")"
}
# ran_from HOST: the directory the binary ran from on HOST, its owner and mode (summary.md's line), checked:
# owned by root (the inventory's user), writable by no one else, not nobody's, gone after the play
ran_from() {
    local line dir owner mode
    line=$(grep "^- measured  *$1: " "$runs/summary.md") || fail "summary.md has no measured line for $1: $(cat "$runs/summary.md")"
    dir=$(echo "$line" | sed -n 's/.*ran from \([^,]*\), owner \([^,]*\), mode \([0-7]*\)).*/\1/p')
    owner=$(echo "$line" | sed -n 's/.*ran from \([^,]*\), owner \([^,]*\), mode \([0-7]*\)).*/\2/p')
    mode=$(echo "$line" | sed -n 's/.*ran from \([^,]*\), owner \([^,]*\), mode \([0-7]*\)).*/\3/p')
    [ -n "$dir" ] || fail "$1: summary.md does not say where the binary ran from: $line"
    echo "test-fleet: $1 ran from $dir (owner $owner, mode $mode)"
    [ "$owner" = root ] || fail "$1 ran from $dir, owned by $owner, not root"
    [ $(( 0$mode & 022 )) = 0 ] || fail "$1 ran from $dir, mode $mode: writable by others"
    case $dir in "$old_dir"|"$old_dir"/*) fail "$1 ran from $dir, under nobody's $old_dir";; esac
    [ ! -e "$dir" ] || fail "$1: $dir is still there after the play"
    ran_dir=$dir
}

HARNESSES=${HARNESSES:-syscall coroutine}
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_PIPELINING=1
runs=$tmp/fleet-runs
# play NAME INVENTORY [extra -e ...]: runs the playbook, output in $tmp/NAME.log, exit status in $rc, wall time in $secs
play() {
    local name=$1 inv=$2; shift 2
    local bin=()
    [ -n "${SWITCHBENCH_BINARY:-}" ] && bin=(-e "switchbench_binary=$SWITCHBENCH_BINARY")
    local start
    start=$(date +%s.%N)
    rc=0
    ansible-playbook -i "$inv" fleet/switchbench.yml "${bin[@]}" -e switchbench_quick=true \
        -e "switchbench_harnesses='$HARNESSES'" -e "switchbench_runs_dir=$runs" -e switchbench_min_free_mb=256 "$@" \
        > "$tmp/$name.log" 2>&1 || rc=$?
    secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$start" "$(date +%s.%N)")
    echo "test-fleet: case $name: ansible-playbook exit $rc in $secs s (log $tmp/$name.log)"
    nobody_untouched "$name"
}
show_fail() { echo "---- $tmp/$1.log (tail)"; tail -n 40 "$tmp/$1.log"; fail "$2"; }
columns() { python3 - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
sec = text.split("\n## ")[1]                       # the Fingerprint section
header = next(l for l in sec.splitlines() if l.startswith("|"))
print(len([c for c in header.strip("|").split("|")]) - 1)
EOF
}
csv_field() { python3 -c 'import csv, sys; rows = list(csv.DictReader(open(sys.argv[1]))); print(sorted({r[sys.argv[2]] for r in rows}))' "$1" "$2"; }

# ---- case two
inventory "$tmp/two.yml" parallel localhost ssh
play two "$tmp/two.yml"
[ "$rc" = 0 ] || show_fail two "two reachable hosts: exit $rc, expected 0"
[ -n "${SWITCHBENCH_BINARY:-}" ] || SWITCHBENCH_BINARY=$root/.build/static/switchbench
built=$(sed -n 's/.*commit:    \([^ ]*\) (written into the binary.*/\1/p' "$tmp/two.log" | tail -1)
embedded=$(env -i PATH=/nonexistent "$SWITCHBENCH_BINARY" env | awk '$1 == "git_commit" { print $2 }')
echo "test-fleet: binary $SWITCHBENCH_BINARY: git_commit $embedded with no git on PATH${built:+ (build-static.sh printed $built)}"
case $embedded in ""|unknown) fail "the binary has no commit written in (git_commit '$embedded' without git)";; esac
[ -z "$built" ] || [ "$built" = "$embedded" ] || fail "build-static.sh printed $built, the binary says $embedded"
for h in localhost 127.0.0.1; do
    f=$runs/$h/results.csv
    [ -s "$f" ] || show_fail two "no $f"
    got=$(csv_field "$f" git_commit)
    echo "test-fleet: $f: git_commit $got, harnesses $(csv_field "$f" harness)"
    [ "$got" = "['$embedded']" ] || fail "$f records git_commit $got, the binary was built from $embedded"
done
for h in localhost 127.0.0.1; do ran_from "$h"; done
[ -s "$runs/machines.md" ] && [ -s "$runs/machines.zh.md" ] || show_fail two "no machines.md / machines.zh.md in $runs"
n=$(columns "$runs/machines.md")
[ "$n" = 2 ] || fail "machines.md has $n columns, expected 2"
grep -q "fleet-runs/localhost/results.csv" "$runs/machines.md" && grep -q "fleet-runs/127.0.0.1/results.csv" "$runs/machines.md" \
    || fail "machines.md does not name both fetched runs (read from row)"
grep -q "多台机器对比" "$runs/machines.zh.md" || fail "machines.zh.md is not Chinese"
grep -q "2 of 2 host(s) measured" "$runs/summary.md" || fail "summary: $(cat "$runs/summary.md")"
echo "test-fleet: case two: PASS (machines.md: $n columns $(grep -o '| M1[ab] ' "$runs/machines.md" | head -2 | tr -d '|' | xargs))"

# ---- case private: switchbench_remote_dir, when set, must be the play's user's alone; the run makes a fresh
# directory inside it and removes it after. A binary without its helpers is refused on the controller.
good=$(mktemp -d /var/tmp/sb-fleet-remote.XXXXXX)   # root's, mode 0700
install -d -o root -m 0777 "$tmp/open"                # root's, but anyone may write
inventory "$tmp/private.yml" parallel localhost local-b ssh
python3 - "$tmp/private.yml" "$old_dir/localhost" "$tmp/open" "$good" <<'EOF'
import sys
p, nob, open_, good = sys.argv[1:]
t = open(p).read()
t = t.replace("    localhost: {ansible_connection: local}", f"    localhost: {{ansible_connection: local, switchbench_remote_dir: '{nob}'}}")
t = t.replace("    local-b: {ansible_connection: local}", f"    local-b: {{ansible_connection: local, switchbench_remote_dir: '{open_}'}}")
t = t.replace("    127.0.0.1: {", f"    127.0.0.1: {{switchbench_remote_dir: '{good}', ")
open(p, "w").write(t)
EOF
play private "$tmp/private.yml" -e "switchbench_binary=$SWITCHBENCH_BINARY"
[ "$rc" != 0 ] || show_fail private "two hosts with a switchbench_remote_dir others can write: exit 0, expected non-zero"
for want in "localhost: private dir on localhost: switchbench_remote_dir $old_dir/localhost is owned by nobody (uid 65534), not by root (uid 0)" \
            "local-b: private dir on local-b: switchbench_remote_dir $tmp/open is writable by its group or by others (mode 777)"; do
    grep -qF -- "- NOT MEASURED  $want" "$runs/summary.md" || show_fail private "summary.md lacks: $want ($(cat "$runs/summary.md"))"
done
echo "test-fleet: $(grep -m1 'NOT MEASURED  localhost' "$runs/summary.md")"
ran_from 127.0.0.1
[ "$(dirname "$ran_dir")" = "$good" ] || fail "127.0.0.1 ran from $ran_dir, not a fresh directory inside $good"
[ -d "$good" ] && [ -z "$(ls -A "$good")" ] || fail "$good: the given directory must stay, empty: $(ls -A "$good")"
[ ! -e "$runs/localhost" ] && [ ! -e "$runs/local-b" ] || fail "a refused host has a run directory"
rmdir "$good"
mkdir "$tmp/alone" && cp "$SWITCHBENCH_BINARY" "$tmp/alone/switchbench"
inventory "$tmp/alone.yml" parallel localhost
play alone "$tmp/alone.yml" -e "switchbench_binary=$tmp/alone/switchbench"
[ "$rc" != 0 ] || show_fail alone "a binary without its helpers: exit 0, expected non-zero"
grep -q "no switchbench-proc and no switchbench-noop beside $tmp/alone/switchbench" "$tmp/alone.log" || show_fail alone "no line naming the missing helpers"
[ ! -e "$runs/localhost" ] || fail "a binary without its helpers was run"
echo "test-fleet: case private: PASS (exit $rc; a binary without its helpers: refused on the controller)"

# ---- case down: a third host where nothing listens; the two share this machine: one at a time
inventory "$tmp/down.yml" serial localhost ssh down
play down "$tmp/down.yml" -e "switchbench_binary=$SWITCHBENCH_BINARY"
[ "$rc" != 0 ] || show_fail down "an unreachable host: exit 0, expected non-zero"
line=$(grep -E '^- NOT MEASURED +down: ' "$runs/summary.md") || show_fail down "summary does not name down: $(cat "$runs/summary.md")"
echo "test-fleet: summary: $line"
echo "$line" | grep -q "unreachable: .*Connection refused" || fail "down's reason is not the refused connection: $line"
grep -q "2 of 3 host(s) measured" "$runs/summary.md" || fail "summary head: $(head -3 "$runs/summary.md")"
n=$(columns "$runs/machines.md")
[ "$n" = 2 ] || fail "machines.md has $n columns with the unreachable host, expected 2"
grep -q "switchbench fleet: 1 of 3 host(s) not measured: down (unreachable" "$tmp/down.log" || show_fail down "the failing task does not name down"
# one at a time: the serial play measured localhost, then 127.0.0.1 (a batch each, its PLAY line printed per batch)
[ "$(grep -c '^PLAY \[switchbench on the hosts that share a physical host' "$tmp/down.log")" = 2 ] || show_fail down "the serial play did not run one host at a time"
echo "test-fleet: case down: PASS ($n columns; exit $rc)"

# ---- case glibc: one host told its binary needs glibc 9.99
inventory "$tmp/glibc.yml" parallel localhost ssh-glibc
play glibc "$tmp/glibc.yml" -e "switchbench_binary=$SWITCHBENCH_BINARY"
[ "$rc" != 0 ] || show_fail glibc "a failed pre-check: exit 0, expected non-zero"
lines=$(grep -c 'pre-check glibc on 127.0.0.1: the binary needs glibc >= 9.99, this host has' "$tmp/glibc.log" || true)
first=$(grep -m1 -o 'pre-check glibc on 127.0.0.1: [^"]*' "$tmp/glibc.log" || true)
echo "test-fleet: pre-check line: $first"
grep -q '^fatal: \[127.0.0.1\]: FAILED! => {"changed": false, "msg": "pre-check glibc on 127.0.0.1: ' "$tmp/glibc.log" \
    || show_fail glibc "no one-line pre-check failure for 127.0.0.1"
[ "$lines" -ge 1 ] || show_fail glibc "the pre-check line is missing"
grep -q 'pre-check glibc on localhost' "$tmp/glibc.log" && fail "localhost failed the glibc pre-check too"
grep -q 'pre-check \(arch\|memory\|running\) on' "$tmp/glibc.log" && fail "another pre-check failed: $(grep -o 'pre-check [a-z]* on [^:]*' "$tmp/glibc.log" | sort -u)"
[ -s "$runs/localhost/results.csv" ] || show_fail glibc "localhost was not measured"
[ ! -e "$runs/127.0.0.1" ] || fail "127.0.0.1 stopped at its pre-check but has a run directory"
grep -q '^- NOT MEASURED  127.0.0.1: pre-check glibc on 127.0.0.1: ' "$runs/summary.md" || fail "summary: $(cat "$runs/summary.md")"
[ -s "$runs/report.md" ] || fail "one run: report.md expected"
echo "test-fleet: case glibc: PASS (exit $rc)"

# ---- case running: a process named switchbench runs on this (shared) machine: both hosts stop
mkdir -p "$tmp/fake"
cp "$(command -v sleep)" "$tmp/fake/switchbench"
"$tmp/fake/switchbench" 600 &
fake_pid=$!
inventory "$tmp/running.yml" parallel localhost ssh
play running "$tmp/running.yml" -e "switchbench_binary=$SWITCHBENCH_BINARY"
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=
[ "$rc" != 0 ] || show_fail running "a switchbench running: exit 0, expected non-zero"
for h in localhost 127.0.0.1; do
    grep -q "^- NOT MEASURED  $h: pre-check running on $h: a switchbench is already running there" "$runs/summary.md" \
        || show_fail running "summary does not stop $h at the running pre-check: $(cat "$runs/summary.md")"
done
grep -q "0 of 2 host(s) measured, nothing to report" "$runs/summary.md" || fail "summary head: $(head -3 "$runs/summary.md")"
[ ! -e "$runs/machines.md" ] || fail "a machines.md of an earlier play was left"
echo "test-fleet: case running: PASS (exit $rc)"

# ---- case gate: --require-gate 25% through scripts/ci-regression.sh (its exit 4, its first line)
run=$runs/../gate-runs
"$SWITCHBENCH_BINARY" run $HARNESSES --quick --output "$run" --format csv > /dev/null 2> "$tmp/gate-run.err"
# A baseline of three runs: the case medians scaled by the factors (the gate reads each run's median).
baseline() { python3 - "$run/results.csv" "$@" <<'EOF'
import csv, sys
src, factors = sys.argv[1], [float(f) for f in sys.argv[2:]]
rows = list(csv.DictReader(open(src)))
w = csv.DictWriter(sys.stdout, fieldnames=rows[0].keys(), lineterminator="\n")
w.writeheader()
for i, f in enumerate(factors):
    for r in rows:
        r = dict(r, run_id=f"{r['run_id']}-b{i}")
        for k in ("median", "min", "mean", "max", "ci95_low", "ci95_high"):
            if r[k]:
                r[k] = f"{float(r[k]) * f:.3f}"
        if r["sample_values"]:
            r["sample_values"] = " ".join(f"{float(v) * f:.3f}" for v in r["sample_values"].split())
        w.writerow(r)
EOF
}
baseline 0.7 1.0 1.3 > "$tmp/noisy.csv"
baseline 0.99 1.0 1.01 > "$tmp/quiet.csv"
for kind in noisy quiet; do
    grc=0
    BIN=$SWITCHBENCH_BINARY BASELINE=$tmp/$kind.csv HARNESSES=$HARNESSES CONFIRM=0 OUT=$tmp/ci-$kind \
        scripts/ci-regression.sh --require-gate 25% > "$tmp/ci-$kind.out" 2> "$tmp/ci-$kind.err" || grc=$?
    echo "test-fleet: ci-regression.sh --require-gate 25% with the $kind baseline: exit $grc; first line: $(head -1 "$tmp/ci-$kind/compare.md")"
    if [ $kind = noisy ]; then
        [ "$grc" = 4 ] || { cat "$tmp/ci-$kind.err"; fail "noisy baseline: exit $grc, expected 4"; }
        head -1 "$tmp/ci-$kind/compare.md" | grep -q 'CANNOT GATE a +25 % slowdown' || fail "first line does not say it cannot gate"
        for h in $HARNESSES; do head -1 "$tmp/ci-$kind/compare.md" | grep -q "\`$h same-cpu\` from +" || fail "first line does not name $h same-cpu"; done
    else
        [ "$grc" != 4 ] && [ "$grc" != 2 ] || { cat "$tmp/ci-$kind.err"; fail "quiet baseline: exit $grc"; }
        head -1 "$tmp/ci-$kind/compare.md" | grep -q 'Every group can gate a +25 % slowdown' || fail "first line does not say every group can gate"
    fi
done
echo "test-fleet: case gate: PASS"
echo "test-fleet: PASS"
