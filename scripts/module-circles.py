#!/usr/bin/env python3
"""Draws a crate's file-level import graph and prints its circles.

Usage: scripts/module-circles.py CRATE_DIR [CRATE_DIR ...]   (e.g. api shared sandbox)

A node is a source file under CRATE_DIR/src. An arrow A -> B means A names a path inside
the crate (`crate::…`, `super::…`, `self::…`, in a `use` or in code) that resolves to B:
the longest module prefix of the path that is a file. `mod x;` declarations are not
arrows: they say where a file lives, not what it uses. Test code (from the first
`#[cfg(test)]` line to the end of a file) is left out: a test may use anything.

A circle is a strongly connected component of two or more files. Exit status 1 when any
crate has one, so the script can guard the rule.
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+(crate|super|self)::([^;]*);", re.S)


def modules(src):
    """Maps module paths (tuples) to files, and files to their module path."""
    by_path = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            if parts and parts[0] == "bin":
                continue
            by_path[tuple(parts)] = rel
    return by_path


def expand_use(base, tree):
    """Expands a `use` tree (`a::{b, c::d}`) into full paths (lists of segments)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, t):
        depth, start, items = 0, 0, []
        if "{" not in t:
            items = [t]
        else:
            i = t.index("{")
            head = t[:i].rstrip(":")
            body = t[i + 1 : t.rindex("}")]
            for j, ch in enumerate(body):
                depth += ch == "{"
                depth -= ch == "}"
                if ch == "," and depth == 0:
                    items.append(body[start:j])
                    start = j + 1
            items.append(body[start:])
            prefix = prefix + [s for s in head.split("::") if s]
            for item in items:
                if item:
                    walk(prefix, item)
            return
        for item in items:
            segs = [s for s in item.split(" as ")[0].split("::") if s and s != "self" and s != "*"]
            out.append(prefix + segs)

    walk([base], tree)
    return out


def resolve(here, segs, by_path):
    """The file a path names, from the module `here`; None when it leaves the crate."""
    head, rest = segs[0], segs[1:]
    if head == "crate":
        path = []
    elif head == "self":
        path = list(here)
    else:  # super, possibly repeated
        path = list(here[:-1])
        while rest and rest[0] == "super":
            path, rest = path[:-1], rest[1:]
    full = path + rest
    for n in range(len(full), -1, -1):
        if tuple(full[:n]) in by_path:
            return by_path[tuple(full[:n])]
    return None


def graph(crate):
    src = os.path.join(crate, "src")
    by_path = modules(src)
    here_of = {f: p for p, f in by_path.items()}
    edges = {f: set() for f in here_of}
    for f, here in here_of.items():
        text = open(os.path.join(src, f), encoding="utf-8").read()
        cut = re.search(r"^\s*#\[cfg\(test\)\]", text, re.M)
        if cut:
            text = text[: cut.start()]
        text = re.sub(r"//[^\n]*", "", text)
        # A file that is `foo.rs` or `foo/mod.rs` is the module itself: `self::` and
        # `super::` count from it.
        paths = []
        for m in USE.finditer(text):
            paths += expand_use(m.group(1), m.group(2))
        text = USE.sub("", text)
        for m in PATH.finditer(text):
            paths.append([m.group(1)] + [s for s in m.group(2).split("::") if s])
        for segs in paths:
            target = resolve(here, segs, by_path)
            if target and target != f:
                edges[f].add(target)
    return edges


def circles(edges):
    """Tarjan's strongly connected components of size two or more."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    found = False
    for crate in sys.argv[1:] or ["api", "shared", "sandbox", "jobs", "workers"]:
        edges = graph(crate)
        comps = circles(edges)
        arrows = sum(len(e) for e in edges.values())
        print(f"{crate}: {len(edges)} files, {arrows} arrows, {len(comps)} circle(s)")
        for comp in comps:
            found = True
            print(f"  circle of {len(comp)} files:")
            members = set(comp)
            for f in comp:
                inside = sorted(t for t in edges[f] if t in members)
                print(f"    {f} -> {', '.join(inside)}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
