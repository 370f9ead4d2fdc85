#!/usr/bin/env python3
"""Row-for-row check of a change to the case key: every row of BEFORE.csv has its row in AFTER.csv.

usage: key-mapping.py BEFORE.csv AFTER.csv

BEFORE may carry a case parameter in its metric name, as runs did before the parameter columns
(events `per_event_k16`, `per_burst_k16`; tlb `reach_l2_pages`, `reach_l2_bytes`, `miss_l2_extra_ns`;
blocking `max_gap_blocking`, `turns_during_read_nonblocking`): each such row is mapped to the key AFTER
writes (metric `per_event`, column `burst` = 16; metric `max_gap`, column `read_mode` = blocking; …), the same
mapping as `CaseKey.upgraded`. `cpus` is compared as a set of CPUs (a row once written "0,0" is "0"
now). AFTER must have no parameter left in a metric name.

Prints, per harness, the rows of BEFORE, how many found their key in AFTER, and the median of
after ÷ before for the timed rows that did (a development figure: the runs are minutes apart).
Rows whose key holds a measured value are matched without it and counted apart: a tlb fact row's
`working_set_pages` is its knee, and the tlb sweep refines its points around the knees it finds, so
its `ns_per_access`/`page-faults` points between the fixed ones differ from run to run ("adaptive":
matched when the curve, key without `working_set_pages` and `footprint_bytes`, is in AFTER). Exit 1
when any other row has no match or a metric of AFTER still holds a parameter.
"""
import csv
import re
import statistics
import sys
from collections import defaultdict

KEY = ["harness", "mechanism", "placement", "cpus", "tasks", "footprint_bytes", "page_size_bytes",
       "working_set_pages", "metric"]
PARAMS = ["burst", "tlb_level", "read_mode"]
OLD = [("events", r"per_event_k(\d+)", "per_event", "burst"),
       ("events", r"per_burst_k(\d+)", "per_burst", "burst"),
       ("tlb", r"reach_l(\d+)_pages", "reach_pages", "tlb_level"),
       ("tlb", r"reach_l(\d+)_bytes", "reach_bytes", "tlb_level"),
       ("tlb", r"miss_l(\d+)_extra_ns", "miss_extra_ns", "tlb_level"),
       ("blocking", r"max_gap_(blocking|nonblocking)", "max_gap", "read_mode"),
       ("blocking", r"turns_during_read_(blocking|nonblocking)", "turns_during_read", "read_mode")]
FACT_METRICS = {"reach_pages", "reach_bytes", "miss_extra_ns"}


def cpu_set(text):
    """A taskset list as the sorted set of its CPUs ("0,0" and "0" are one set, as CaseKey.cpus is)."""
    cpus = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return ",".join(map(str, sorted(cpus)))


def upgraded(row):
    r = dict(row)
    r["cpus"] = cpu_set(r["cpus"])
    for p in PARAMS:
        r.setdefault(p, "")
    if any(r[p] for p in PARAMS):
        return r
    for harness, pattern, metric, param in OLD:
        m = re.fullmatch(pattern, r["metric"])
        if r["harness"] == harness and m:
            r["metric"], r[param] = metric, m.group(1)
            break
    return r


def key(r, without=()):
    return tuple(r[c] for c in KEY + PARAMS if c not in without)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before = [upgraded(r) for r in csv.DictReader(open(sys.argv[1]))]
    after_raw = list(csv.DictReader(open(sys.argv[2])))
    missing_cols = [p for p in PARAMS if p not in (after_raw[0].keys() if after_raw else [])]
    bad = 0
    if missing_cols:
        print(f"AFTER lacks the parameter column(s) {', '.join(missing_cols)}")
        bad += 1
    left = [r["metric"] for r in after_raw if any(re.fullmatch(p, r["metric"]) for h, p, *_ in OLD if h == r["harness"])]
    if left:
        print(f"AFTER still has a parameter in {len(left)} metric name(s), e.g. {left[0]}")
        bad += 1
    after = [upgraded(r) for r in after_raw]
    exact = {key(r): r for r in after}
    loose = {key(r, ("working_set_pages",)): r for r in after}
    curves = {key(r, ("working_set_pages", "footprint_bytes")) for r in after}
    per = defaultdict(lambda: {"rows": 0, "exact": 0, "loose": 0, "adaptive": 0, "ratios": []})
    unmatched = []
    for r in before:
        s = per[r["harness"]]
        s["rows"] += 1
        a = exact.get(key(r))
        if a is not None:
            s["exact"] += 1
        elif r["metric"] in FACT_METRICS or r["metric"] == "huge_page_reach_ratio":
            a = loose.get(key(r, ("working_set_pages",)))
            if a is not None:
                s["loose"] += 1
        if a is None:
            if r["harness"] == "tlb" and r["working_set_pages"] and key(r, ("working_set_pages", "footprint_bytes")) in curves:
                s["adaptive"] += 1
            else:
                unmatched.append(r)
            continue
        try:
            b, c = float(r["median"]), float(a["median"])
            if b > 0 and r["unit"] == "ns":
                s["ratios"].append(c / b)
        except ValueError:
            pass
    print(f"{'harness':<10} {'rows':>5} {'exact':>6} {'fact*':>6} {'adaptive':>9} {'missing':>8}  after/before (median, timed rows)")
    for h in sorted(per):
        s = per[h]
        miss = s["rows"] - s["exact"] - s["loose"] - s["adaptive"]
        ratio = f"{statistics.median(s['ratios']):.2f}" if s["ratios"] else "–"
        print(f"{h:<10} {s['rows']:>5} {s['exact']:>6} {s['loose']:>6} {s['adaptive']:>9} {miss:>8}  {ratio}")
    print(f"before {len(before)} rows, after {len(after)} rows; * fact rows matched without working_set_pages")
    for r in unmatched[:20]:
        print("no match:", " ".join(f"{c}={r[c]}" for c in KEY + PARAMS if r[c]))
    sys.exit(1 if unmatched or bad else 0)


if __name__ == "__main__":
    main()
