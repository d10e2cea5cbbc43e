#!/usr/bin/env bash
# Counts fixed sleeps in test code and hand-written deadline loops.
# Usage: scripts/count-test-waits.sh [repo-root] [path-regex-filter]
# Test code: */tests/**/*.rs, test-support/src/**/*.rs, and, in any other *.rs, everything
#   from its first `#[cfg(test)]` line to the end of the file.
# Sleep: a call `tokio::time::sleep(`, `thread::sleep(` or `sleep(` on a line that is not a
#   comment, a `use`, or a `fn ...sleep` definition.
# Deadline loop: a `loop {` / `while ... {` block (to the `}` at its indentation) holding
#   a sleep call and a comparison against a deadline (`Instant::now() <`, `< deadline`,
#   `< end`, `< until`, `elapsed() <`, and the same with >, <=, >=).
# test-support/src/lib.rs (wait_until, wait_for, poll_until, wait_for_blocking: the wait
#   helpers themselves) is listed but left out of the totals.
cd "${1:-.}"
FILTER="${2:-.}" python3 - <<'PY'
import os,re
flt=re.compile(os.environ['FILTER'])
SLEEP=re.compile(r'(tokio::time::sleep|thread::sleep|\bsleep)\s*\(')
CMP=re.compile(r'(Instant::now\(\)\s*(<|>)=?|(<|>)=?\s*(deadline|end|until)\b|elapsed\(\)\s*(<|>)=?)')
files=[]
for root,dirs,fs in os.walk('.'):
    dirs[:]=[d for d in dirs if d not in ('target','.git','node_modules')]
    files+= [os.path.join(root,f)[2:] for f in fs if f.endswith('.rs')]
tot=[0,0]
for p in sorted(files):
    if not flt.search(p): continue
    lines=open(p,encoding='utf-8',errors='replace').read().split('\n')
    if '/tests/' in '/'+p or p.startswith('test-support/src/'): start=0
    else:
        idx=[i for i,l in enumerate(lines) if l.strip()=='#[cfg(test)]']
        if not idx: continue
        start=idx[0]
    body=lines[start:]
    def is_sleep(l):
        t=l.strip()
        return not (t.startswith('//') or t.startswith('use ') or re.search(r'fn \w*sleep',t)) and SLEEP.search(t)
    s=sum(1 for l in body if is_sleep(l))
    L=0
    for i,l in enumerate(body):
        m=re.match(r'^(\s*)(?:.*=\s*)?(loop\s*\{|while\b.*\{)\s*$',l)
        if not m: continue
        ind=len(m.group(1)); blk=[l]
        for l2 in body[i+1:]:
            if l2.strip() and len(l2)-len(l2.lstrip())<=ind and l2.strip().startswith('}'): break
            blk.append(l2)
        if any(is_sleep(x) for x in blk) and CMP.search('\n'.join(x for x in blk if not x.strip().startswith('//'))): L+=1
    if s or L:
        helper = p=='test-support/src/lib.rs'
        print(f"{s:3d} sleeps {L:3d} deadline-loops  {p}{'  (the wait helpers: not in the totals)' if helper else ''}")
        if not helper: tot[0]+=s; tot[1]+=L
print(f"TOTAL sleeps={tot[0]} deadline_loops={tot[1]}")
PY
