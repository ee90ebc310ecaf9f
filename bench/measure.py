#!/usr/bin/env python3
"""Runs a load command while sampling CPU and memory from /proc; prints one JSON line.

    measure.py --db DB [--server-pid PID] [--backend-filter TEXT] -- COMMAND ...

- server: utime+stime delta of PID (ms) and its peak RSS (VmHWM, reset before the run
  through /proc/PID/clear_refs when permitted);
- PostgreSQL: CPU of the backends serving database DB (process title
  "postgres: ... USER DB HOST(PORT) ..."), summed over every backend seen during the run,
  sampled every 0.2 s (a backend that exits between samples loses at most 0.2 s of CPU);
  --backend-filter keeps only backends whose title contains TEXT;
- the load generator's own CPU (the command's rusage);
- the whole machine's busy CPU (/proc/stat) and what is left after the above: other
  processes competing for the cores during the run;
- the command's stdout is passed through.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def system_busy_ticks():
    """Busy CPU ticks of the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def backends(db, text_filter):
    pattern = re.compile(r"^postgres: .*?: \S+ " + re.escape(db) + r" (\S+\(\d+\)|\[local\]) ")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        # Client backends only ("postgres: 15/main: USER DB HOST(PORT) STATE"), not
        # autovacuum workers of the same database.
        if pattern.match(title) and (not text_filter or text_filter in title):
            ticks = cpu_ticks(entry)
            if ticks is not None:
                found[int(entry)] = ticks
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--backend-filter")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command and args.command[0] == "--" else args.command

    if args.server_pid:
        try:
            with open(f"/proc/{args.server_pid}/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
        except OSError:
            pass
    first = backends(args.db, args.backend_filter)  # pid -> ticks at start
    last = dict(first)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid, ticks in backends(args.db, args.backend_filter).items():
                first.setdefault(pid, 0)  # a backend started during the run: all its CPU counts
                last[pid] = ticks
            stop.wait(0.2)

    server_start = cpu_ticks(args.server_pid) if args.server_pid else None
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_start = system_busy_ticks()
    proc = subprocess.run(command, capture_output=True, text=True)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_end = system_busy_ticks()
    elapsed = time.time() - started
    stop.set()
    sampler.join()
    for pid, ticks in backends(args.db, args.backend_filter).items():
        first.setdefault(pid, 0)
        last[pid] = ticks
    result = {
        "elapsed_s": round(elapsed, 3),
        "exit": proc.returncode,
        "pg_cpu_ms": round(sum(last[p] - first[p] for p in last) * TICK_MS, 1),
        "pg_backends": len(last),
        # CPU of the load generator itself (wrk or pgbench), which shares the machine.
        "client_cpu_ms": round(((children_after.ru_utime - children.ru_utime)
                                + (children_after.ru_stime - children.ru_stime)) * 1000, 1),
    }
    if args.server_pid:
        end = cpu_ticks(args.server_pid)
        result["server_cpu_ms"] = round((end - server_start) * TICK_MS, 1) if end is not None else None
        result["server_vmhwm_kb"] = status_kb(args.server_pid, "VmHWM")
        result["server_vmrss_kb"] = status_kb(args.server_pid, "VmRSS")
    # Everything else the machine ran meanwhile (other processes: interference), in cores.
    busy_ms = (busy_end - busy_start) * TICK_MS
    ours = result["pg_cpu_ms"] + result["client_cpu_ms"] + (result.get("server_cpu_ms") or 0)
    result["machine_busy_cores"] = round(busy_ms / 1000 / elapsed, 2)
    result["other_cpu_cores"] = round(max(0.0, busy_ms - ours) / 1000 / elapsed, 2)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    print("MEASUREJSON " + json.dumps(result))


if __name__ == "__main__":
    main()
