#!/usr/bin/env python3
"""Rewrites README.md's "one real table" from a run: the block between the two marker lines
<!-- BEGIN reference table … --> and <!-- END reference table -->. Called by make-reference.sh,
so the README's table is always the committed results/reference run.
Usage: scripts/reference-table.py RUN_DIR [README]  (exit 1 when a marker or a row is missing)."""
import csv, os, re, sys

run = sys.argv[1]
readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
rows = list(csv.DictReader(open(os.path.join(run, "results.csv"), newline="")))

def find(harness, mechanism, metric, placement="same-cpu"):
    for r in rows:
        if (r["harness"], r["mechanism"], r["metric"], r["placement"]) == (harness, mechanism, metric, placement) \
                and r["tasks"] in ("1", "2") and r["footprint_bytes"] in ("0", "") and r["median"]:
            return r
    return None

def ns(v):
    v = float(v)
    if v >= 1000:
        return f"{v / 1000:.3g} µs"
    return f"{v:.3g} ns"

def ratio(v):
    return f"{v:.0f}×" if v >= 100 else (f"{v:.1f}×" if v >= 10 else f"{v:.2f}×")

kinds = [
    ("system call (no switch)", "syscall", "getppid", "per_call", "`syscall/getppid`, per call"),
    ("asm coroutine", "coroutine", "asm", "per_switch", "`coroutine/asm`"),
    ("asm coroutine (resume/yield)", "coroutine", "asm-generator", "per_switch", "`coroutine/asm-generator`"),
    ("ucontext (`swapcontext`)", "coroutine", "ucontext", "per_switch", "`coroutine/ucontext`"),
    ("Swift task (own executor)", "coroutine", "swift-task", "per_switch", "`coroutine/swift-task`"),
    ("thread", "thread", "futex", "per_switch", "`thread/futex`, 2 tasks"),
    ("process", "process", "futex", "per_switch", "`process/futex`, 2 tasks"),
]
asm = find("coroutine", "asm", "per_switch")
if asm is None:
    sys.exit("reference-table: no same-cpu coroutine/asm per_switch row")
base = float(asm["median"])
e = asm
lines = [
    f"Same CPU, from `results/reference/` — {e['cpu_model']}, "
    f"{'virtualization ' + e['virtualization'] if e['virtualization'] not in ('', 'none') else 'bare metal'}, "
    f"Linux {e['kernel']}, PCID {'on' if e['pcid'] == 'yes' else 'off'}, {e['build']} build, commit `{e['git_commit']}`; "
    "`kernel switches` is the kernel's own count per op, the proof of what happened:",
    "",
    "| kind | row | per switch | ÷ asm coroutine | kernel switches / op |",
    "|---|---|---|---|---|",
]
for kind, h, m, metric, label in kinds:
    r = find(h, m, metric)
    if r is None:
        sys.exit(f"reference-table: no same-cpu {h}/{m} {metric} row")
    spo = f"{float(r['switches_per_op']):.3f}" if r["switches_per_op"] else ""
    lines.append(f"| {kind} | {label} | {ns(r['median'])} | {ratio(float(r['median']) / base)} | {spo} |")

# The verdicts, from the run's report.md summary table ("| C1 | … | **holds** | … |").
verdicts = {}
report = os.path.join(run, "report.md")
if os.path.exists(report):
    for line in open(report):
        m = re.match(r"\|\s*(C\d+)\s*\|.*?\|\s*\*\*(.+?)\*\*\s*\|", line)
        if m:
            verdicts.setdefault(m.group(1), m.group(2))
if verdicts:
    lines += ["", "Verdicts of that run: " + ", ".join(f"{c} {v}" for c, v in verdicts.items()) +
              " ([docs/claims.md](docs/claims.md) for the rules)."]

text = open(readme).read()
pattern = re.compile(r"(<!-- BEGIN reference table[^\n]*-->\n).*?(<!-- END reference table -->)", re.S)
if not pattern.search(text):
    sys.exit(f"reference-table: no marker lines in {readme}")
text = pattern.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text)
open(readme, "w").write(text)
print(f"reference-table: {readme}: {len(kinds)} rows, {len(verdicts)} verdicts from {run}")
