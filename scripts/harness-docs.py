#!/usr/bin/env python3
"""Rewrites README.md's harness list and docs/harnesses.md's harness table from the registry: the blocks
that `switchbench list --format docs` prints, each put between its marker lines
(<!-- BEGIN harness list … --> … <!-- END harness list -->, the same for "harness table") in the file
that holds them. Says which harness it added, changed or removed: a newly registered harness gets its
rows here, not from a test (DocsTests fails only on a row that is stale or names a harness the registry
lacks). make-reference.sh runs it; run it alone after adding or changing a harness.
Usage: scripts/harness-docs.py [--check]
  BIN (environment): the switchbench binary; unset: `swift build --product switchbench` (debug) first, so
  that the blocks are this tree's registry.
  --check: change nothing; exit 1 when a block differs from the registry's (for CI).
Exit 1 also when a file lacks a block's markers."""
import os, re, subprocess, sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
args = sys.argv[1:]
check = "--check" in args
if [a for a in args if a != "--check"]:
    sys.exit("usage: scripts/harness-docs.py [--check]  (BIN in the environment: the switchbench binary)")
binary = os.environ.get("BIN")
if binary:
    binary = os.path.abspath(binary)
else:
    subprocess.run(["swift", "build", "--product", "switchbench"], check=True, stdout=sys.stderr)
    path = subprocess.run(["swift", "build", "--show-bin-path"], check=True, capture_output=True, text=True).stdout.strip()
    binary = os.path.join(path, "switchbench")
out = subprocess.run([binary, "list", "--format", "docs"], check=True, capture_output=True, text=True).stdout

FILES = ["README.md", "docs/harnesses.md"]
BEGIN = re.compile(r"^<!-- BEGIN (.+?): ")

def blocks(lines):
    """name -> (begin index, end index) of each marked block in lines."""
    found, i = {}, 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if m:
            end = f"<!-- END {m.group(1)} -->"
            j = next((k for k in range(i + 1, len(lines)) if lines[k] == end), None)
            if j is not None:
                found[m.group(1)] = (i, j)
                i = j
        i += 1
    return found

def rows(block_lines):
    """harness id (first code span) -> row, for the rows of a block."""
    r = {}
    for line in block_lines:
        m = re.search(r"`([^`]+)`", line)
        if m and (line.startswith("- ") or line.startswith("| ")) and not line.startswith("| harness |"):
            r.setdefault(m.group(1), line)
    return r

generated_lines = out.split("\n")
generated = {name: generated_lines[b:e + 1] for name, (b, e) in blocks(generated_lines).items()}
if not generated:
    sys.exit(f"harness-docs: {binary} list --format docs printed no block")

status, wrote = 0, []
for name, new in generated.items():
    holder = next((f for f in FILES if name in blocks(open(f).read().split("\n"))), None)
    if holder is None:
        print(f"harness-docs: no file of {FILES} has the {name} block's markers ({new[0]} … {new[-1]})", file=sys.stderr)
        status = 1
        continue
    text = open(holder).read().split("\n")
    b, e = blocks(text)[name]
    old = text[b:e + 1]
    if old == new:
        print(f"harness-docs: {holder}: {name} unchanged")
        continue
    before, after = rows(old), rows(new)
    added = [h for h in after if h not in before]
    removed = [h for h in before if h not in after]
    changed = [h for h in after if h in before and before[h] != after[h]]
    what = "; ".join(f"{label} {', '.join(ids)}" for label, ids in
                     (("added", added), ("changed", changed), ("removed", removed)) if ids) or "header or order"
    if check:
        print(f"harness-docs: {holder}: {name} differs from the registry ({what}); run scripts/harness-docs.py")
        status = 1
        continue
    open(holder, "w").write("\n".join(text[:b] + new + text[e + 1:]))
    print(f"harness-docs: {holder}: {name} rewritten ({what})")
    wrote.append(holder)
if wrote:
    print(f"harness-docs: commit {' '.join(sorted(set(wrote)))}")
sys.exit(status)
