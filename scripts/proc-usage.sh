#!/usr/bin/env bash
# Samples the memory and CPU of running processes from /proc, once a second, until they
# exit or SECONDS pass; then prints per process: peak RSS (VmHWM, the kernel's high-water
# mark), the RSS at the end, CPU averaged over the run and the busiest one-second sample,
# in millicores (1000 = one core), the unit Kubernetes requests use. docs/deploy.md's
# resource numbers come from it.
#   scripts/proc-usage.sh SECONDS PID [PID...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 SECONDS PID [PID...]" >&2
  exit 2
fi
exec python3 - "$@" <<'PY'
import os, sys, time

seconds = float(sys.argv[1])
pids = [int(p) for p in sys.argv[2:]]
hz = os.sysconf("SC_CLK_TCK")

def ticks(pid):
    # Fields after the command name (which may hold spaces): utime is 14th, stime 15th.
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])

def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out

def name(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return " ".join(a.decode() for a in f.read().split(b"\0") if a)[:70]

info = {}
for pid in pids:
    try:
        info[pid] = {"name": name(pid), "t0": ticks(pid), "last": ticks(pid), "peak": 0.0,
                     "hwm": "?", "rss": "?"}
    except FileNotFoundError:
        sys.exit(f"no process {pid}")
start = last = time.monotonic()
while time.monotonic() - start < seconds:
    time.sleep(1)
    now = time.monotonic()
    alive = 0
    for pid, p in info.items():
        try:
            t, s = ticks(pid), status(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        alive += 1
        p["peak"] = max(p["peak"], (t - p["last"]) / hz / (now - last) * 1000)
        p["last"], p["end"] = t, now
        p["hwm"], p["rss"] = s.get("VmHWM", "?"), s.get("VmRSS", "?")
    last = now
    if not alive:
        break
print(f"{'pid':>7} {'peak RSS':>11} {'RSS at end':>11} {'avg mCPU':>9} {'peak mCPU':>10}  command")
for pid, p in info.items():
    elapsed = p.get("end", start) - start
    avg = (p["last"] - p["t0"]) / hz / elapsed * 1000 if elapsed > 0 else 0
    print(f"{pid:>7} {p['hwm']:>11} {p['rss']:>11} {avg:>9.0f} {p['peak']:>10.0f}  {p['name']}")
PY
