#!/usr/bin/env python3
"""Fail if any two source files of a crate depend on each other, directly or in a ring.

A file depends on the file that *defines* an item it names through `use crate::...`,
`use super::...`, `use self::...` or an inline `crate::a::b` / `super::a` path; re-exports
(`pub use x::Y` in a module file) are followed to the defining file, so a facade `mod.rs`
does not make false rings. Test modules (`#[cfg(test)]` to the end of a file) are skipped.

Usage: scripts/check_use_cycles.py [CRATE_SRC_DIR ...]   (default: src samplers/src likelihoods/src)
"""
import os
import re
import sys


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.split("\n"))


def non_test_part(text):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("#[cfg(test)]"):
            return "\n".join(lines[:i])
    return text


def expand(tree):
    """Expand a use tree like `a::{b, c::{d, e}}` into paths ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+as\s+", "~", tree)  # `a::B as C` -> `a::B~C`
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner, rest = tree[:start], tree[start + 1:i], tree[i + 1:]
                parts, d, cur = [], 0, ""
                for c in inner:
                    if c == "," and d == 0:
                        parts.append(cur)
                        cur = ""
                        continue
                    d += c == "{"
                    d -= c == "}"
                    cur += c
                if cur:
                    parts.append(cur)
                out = []
                for p in parts:
                    for e in expand(p):
                        out.append(prefix + e + rest)
                return out
    return [tree]


class Crate:
    def __init__(self, root):
        self.root = root
        self.files = {}  # module path tuple -> file
        for dirpath, _, names in os.walk(root):
            for n in names:
                if not n.endswith(".rs"):
                    continue
                f = os.path.join(dirpath, n)
                rel = os.path.relpath(f, root)[:-3].split(os.sep)
                if rel in (["lib"], ["main"]):
                    mod = ()
                elif rel[-1] == "mod":
                    mod = tuple(rel[:-1])
                else:
                    mod = tuple(rel)
                if mod == () and rel == ["main"]:
                    continue
                self.files[mod] = f
        self.text = {m: non_test_part(strip_comments(open(f).read())) for m, f in self.files.items()}
        self.reexports = {}
        for m, t in self.text.items():
            for stmt in re.findall(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", t):
                for path in expand(stmt):
                    # Renames (`a::B as C`, expanded to `a::B~C`) and globs are left out:
                    # here they re-export external crates.
                    segs = path.split("::")
                    last = segs[-1]
                    if last == "*" or "~" in last:
                        continue
                    self.reexports.setdefault(m, {})[last] = (m, segs)

    def start(self, module, segs):
        """Absolute module path of the first segment's context."""
        if segs[0] == "crate":
            return (), segs[1:]
        cur = module
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                cur = cur[:-1]
            segs = segs[1:]
        return cur, segs

    def resolve(self, module, segs, seen=None):
        """The file defining the item `segs` named from `module`, or None (external)."""
        seen = seen or set()
        cur, segs = self.start(module, segs)
        if cur not in self.files:
            return None
        i = 0
        while i < len(segs) and cur + (segs[i],) in self.files:
            cur = cur + (segs[i],)
            i += 1
        if i == len(segs):
            return self.files[cur]  # a module itself: its file
        name = segs[i]
        key = (cur, name)
        if key in seen:
            return self.files[cur]
        seen.add(key)
        re_ = self.reexports.get(cur, {}).get(name)
        if re_ is not None:
            src_mod, rsegs = re_
            if rsegs[0] in ("crate", "super", "self") or (src_mod + (rsegs[0],)) in self.files:
                if rsegs[0] not in ("crate", "super", "self"):
                    rsegs = ["self"] + rsegs
                r = self.resolve(src_mod, rsegs + segs[i + 1:], seen)
                if r is not None:
                    return r
            return None  # re-export of an external crate's item
        return self.files[cur]

    def edges(self):
        g = {f: set() for f in self.files.values()}
        for m, t in self.text.items():
            f = self.files[m]
            paths = []
            for stmt in re.findall(r"\buse\s+([^;]+);", t):
                paths += expand(stmt)
            # Inline paths outside `use` statements (which were expanded above).
            rest = re.sub(r"\buse\s+[^;]+;", "", t)
            paths += re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", rest)
            for p in paths:
                p = p.split("~")[0]
                if p.endswith("*"):
                    # Globs (`use super::*` in inline test or helper modules) name no file.
                    continue
                segs = [s for s in p.split("::") if s]
                if not segs or segs[0] not in ("crate", "super", "self"):
                    if segs and (m + (segs[0],)) in self.files:
                        segs = ["self"] + segs
                    else:
                        continue
                target = self.resolve(m, segs)
                if target and target != f:
                    g[f].add(target)
        return g


def cycles(g):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            strong(v)
    return out


def main():
    roots = sys.argv[1:] or ["src", "samplers/src", "likelihoods/src"]
    bad = 0
    for r in roots:
        c = Crate(r)
        g = c.edges()
        for comp in cycles(g):
            bad += 1
            print(f"use cycle in {r}: " + " <-> ".join(comp))
            for a in comp:
                for b in sorted(g[a] & set(comp)):
                    print(f"    {a} -> {b}")
    if bad:
        print(f"{bad} use cycle(s): move what both files need into a file below them")
        sys.exit(1)
    print("no use cycles between files in " + ", ".join(roots))


if __name__ == "__main__":
    main()
