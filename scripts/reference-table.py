#!/usr/bin/env python3
"""Rewrites README.md's "one real table" from a run: the block between the two marker lines
<!-- BEGIN reference table … --> and <!-- END reference table -->. Called by make-reference.sh,
so the README's table is always the committed results/reference run.
Reads only the run's results.json: its `class_table` (the four switches notes.md compares, with both
ratios) and its `claims` (each verdict, the canonical record). Nothing reads report.md.
Usage: scripts/reference-table.py RUN_DIR [README]  (exit 1 when a marker, the record or a row is missing)."""
import json, os, re, sys

run = sys.argv[1]
readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
doc = json.load(open(os.path.join(run, "results.json")))
table = doc.get("class_table")
claims = doc.get("claims")
if not table or claims is None:
    sys.exit("reference-table: results.json has no class_table/claims (written before they existed): rerun the suite")

def sig3(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:.0f}"
    import math
    digits = max(0, 2 - int(math.floor(math.log10(a))))
    return f"{v:.{digits}f}"

def ns(v):
    return f"{sig3(v / 1000)} µs" if v >= 999.5 else f"{sig3(v)} ns"

def times(v):
    return "–" if v is None else sig3(v) + "×"

e = doc["environment"]
virt = e.get("virtualization", "")
lines = [
    f"Same CPU, from `results/reference/` — {e['cpuModel']}, "
    f"{'virtualization ' + virt if virt not in ('', 'none') else 'bare metal'}, "
    f"Linux {e['kernel']}, PCID {'on' if e['pcid'] else 'off'}, {e['build']} build, commit `{e['gitCommit']}` "
    "(the class table of its `notes.md`; `context switches per switch` is the kernel's own count, the proof of what happened: "
    "1 for a switch of task, 0 for a coroutine switch or a system call):",
    "",
    "| switch | row | time | ÷ system call | ÷ coroutine switch | context switches per switch (kernel count) |",
    "|---|---|---|---|---|---|",
]
for r in table:
    if r.get("median_ns") is None:
        sys.exit(f"reference-table: no {r['kind']} row in {run}")
    v = r.get("kernel_switches_per_switch")
    spo = "" if v is None else ("0" if v < 0.0005 else f"{v:.2f}")
    lines.append(f"| {r['kind']} | `{r['row']}` ({r['metric']}) | {ns(r['median_ns'])} | {times(r.get('over_system_call'))} | "
                 f"{times(r.get('over_coroutine_switch'))} | {spo} |")

steps = doc.get("two_steps")
if steps:
    lines += ["", "The note's two steps on that machine (the `anatomy` harness: one process switch taken apart on one CPU; "
              "the first four parts add up to it by construction, the prediction is the check; the hand-offs' tasks "
              "run under `SCHED_BATCH`, so that every hand-off sleeps):", "",
              "| part | per switch |", "|---|---|"]
    for p in steps["parts"]:
        lines.append(f"| {p['name']} | {'n/a' if p.get('ns') is None else ns(p['ns'])} |")
    for label, key in (("process switch by `sched_yield()` (no IPC), measured", "process_switch_ns"),
                       ("process switch with a futex hand-off, predicted from the parts measured alone", "predicted_futex_ns"),
                       ("process switch with a futex hand-off, measured", "measured_futex_ns")):
        v = steps.get(key)
        lines.append(f"| {label} | {'n/a' if v is None else ns(v)} |")
    # One line per hand-off (the futex process switch above is the first); its tasks and the wake-sleep
    # pair's run under SCHED_BATCH, so that every hand-off sleeps (docs/harnesses.md#anatomy).
    ratios = [f"{h['ipc']} {h['kind']} {'n/a' if h.get('predicted_over_measured') is None else times(h['predicted_over_measured'])}"
              for h in steps.get("hand_offs", [])]
    if ratios:
        lines.append(f"| hand-off switches, predicted ÷ measured | {', '.join(ratios)} |")

if doc.get("durationSeconds") is not None:
    lines += ["", f"That `--all` took {doc['durationSeconds']:.0f} s."]

verdicts = [(c["id"], c["verdict"]) for c in claims]
if verdicts:
    lines += ["", "Verdicts of that run: " + ", ".join(f"{c} {v}" for c, v in verdicts) +
              " ([docs/claims.md](docs/claims.md) for the rules; each verdict with its deciding numbers is in `results.json`, `claims`)."]

text = open(readme).read()
pattern = re.compile(r"(<!-- BEGIN reference table[^\n]*-->\n).*?(<!-- END reference table -->)", re.S)
if not pattern.search(text):
    sys.exit(f"reference-table: no marker lines in {readme}")
text = pattern.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text)
open(readme, "w").write(text)
print(f"reference-table: {readme}: {len(table)} rows, {len(verdicts)} verdicts from {run}/results.json")
