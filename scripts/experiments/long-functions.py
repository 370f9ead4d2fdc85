#!/usr/bin/env python3
"""Functions and initializers longer than a limit in Swift sources.

usage: long-functions.py [--limit N] [PATH...]      (default: 80 lines, Sources/)

Each `func`, `init` and `deinit` body is found by brace matching on the source with its comments and
string literals (single-line, multi-line, raw, with interpolations) blanked out, so a brace inside a
string or a comment does not count. A function's length is its lines from the declaration to its
closing brace. Prints `lines  file:line  name`, longest first; exit 1 when any is over the limit.
"""
import os
import re
import sys


def mask(src):
    """The source with comments and string literal contents replaced by spaces (newlines kept)."""
    out = list(src)
    n = len(src)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    def string_end(i):
        """i at the opening quote run (after any #s); returns the index past the closing delimiter."""
        j = i
        hashes = 0
        while j > 0 and src[j - 1] == "#":
            j -= 1
            hashes += 1
        multi = src.startswith('"""', i)
        k = i + (3 if multi else 1)
        close = ('"""' if multi else '"') + "#" * hashes
        while k < n:
            if src[k] == "\\" and src[k + 1:k + 1 + hashes] == "#" * hashes:
                after = k + 1 + hashes
                if after < n and src[after] == "(":
                    k = interpolation_end(after + 1)
                    continue
                k = after + 1
                continue
            if src.startswith(close, k):
                return k + len(close)
            k += 1
        return n

    def interpolation_end(k):
        depth = 1
        while k < n and depth:
            c = src[k]
            if c == '"':
                k = string_end(k)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            k += 1
        return k

    i = 0
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif src[i] == '"':
            j = string_end(i)
            blank(i, j)
            i = j
        else:
            i += 1
    return "".join(out)


DECL = re.compile(r"(?<![\w.])(func\s+[^\s(<]+|init[?!]?\s*[(<]|deinit\s*\{)")
NO_BODY = re.compile(r"\n\s*(func |var |let |static |public |private |internal |fileprivate |mutating |init|case |associatedtype |subscript|@|\})")


def functions(path):
    src = open(path, encoding="utf-8").read()
    code = mask(src)
    for m in DECL.finditer(code):
        start = m.start()
        # the body's opening brace: the first { at bracket depth 0, unless the declaration ends first
        depth, k = 0, m.end() - (1 if code[m.end() - 1] in "(<{" else 0)
        body = None
        while k < len(code):
            c = code[k]
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
            elif c == "{" and depth == 0:
                body = k
                break
            elif c == "\n" and depth == 0 and NO_BODY.match(code, k):
                break
            k += 1
        if body is None:
            continue
        depth, k = 0, body
        while k < len(code):
            if code[k] == "{":
                depth += 1
            elif code[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        first = code.count("\n", 0, start) + 1
        last = code.count("\n", 0, k) + 1
        name = m.group(1).rstrip("({<").strip()
        yield last - first + 1, first, name


def main():
    args = sys.argv[1:]
    limit = 80
    if args[:1] == ["--limit"]:
        limit, args = int(args[1]), args[2:]
    roots = args or ["Sources"]
    long = []
    for root in roots:
        paths = [root] if root.endswith(".swift") else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".swift")]
        for p in sorted(paths):
            for lines, line, name in functions(p):
                if lines > limit:
                    long.append((lines, f"{p}:{line}", name))
    for lines, where, name in sorted(long, reverse=True):
        print(f"{lines:5}  {where}  {name}")
    sys.stdout.flush()
    print(f"{len(long)} function(s) over {limit} lines", file=sys.stderr)
    sys.exit(1 if long else 0)


if __name__ == "__main__":
    main()
