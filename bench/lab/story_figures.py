# SPDX-License-Identifier: GPL-2.0-only
"""The figures of one run of bench/lab/migration_story.sh, from what the
run left in RUN: the traffic's accounts (v4.txt, v6.txt), the workload's
summary, steer-pathlat's lines and per-migration rows (pathlat.txt,
paths.csv), the story's event times (events) and every node's counters
and cache taken idle (idle0-K, idle1-K), at the start (begin-K) and at
the end (end-K). Prints `name_MODE value unit` lines.

    python3 story_figures.py RUN MODE HOSTS
"""
import csv
import json
import os
import sys


def load(path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        return {}
    return d.get("result", d)


def num(path):
    try:
        return float(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def gossip(run, snap, k, field):
    return load(os.path.join(run, "%s-%d.json" % (snap, k))).get(
        "gossip", {}).get(field, 0)


def survived(run):
    total = alive = 0
    for fam in ("v4", "v6"):
        try:
            lines = open(os.path.join(run, fam + ".txt")).read().splitlines()
        except OSError:
            continue
        for line in lines:
            w = line.split()
            if w[:1] == ["connections"]:
                total += int(w[1])
                alive += int(w[5])
            if w[:1] == ["udp_flows"]:
                total += int(w[1])
                alive += int(w[3])
    return total, alive


def workload(run):
    try:
        w = open(os.path.join(run, "workload.txt")).read().split()
    except OSError:
        return 0, 0
    d = {w[i]: int(w[i + 1]) for i in range(1, len(w) - 1, 2)
         if w[i + 1].isdigit()}
    return d.get("started", 0), d.get("done", 0)


def events(run):
    ev = []
    try:
        for line in open(os.path.join(run, "events")):
            name, t = line.split()
            ev.append((float(t), name))
    except (OSError, ValueError):
        pass
    return sorted(ev)


def paths(run, ev):
    """Per event (the latest before each migration), path counts."""
    per = {}
    try:
        rows = list(csv.DictReader(open(os.path.join(run, "paths.csv"))))
    except OSError:
        rows = []
    for r in rows:
        t = float(r["time_s"])
        cause = "before"
        for te, name in ev:
            if te <= t + 0.05:
                cause = name
        per.setdefault(cause, {}).setdefault(r["path"], 0)
        per[cause][r["path"]] += 1
        if r.get("cached") == "1":
            per[cause]["cached"] = per[cause].get("cached", 0) + 1
    return per


def pathlat(run):
    d = {}
    try:
        for line in open(os.path.join(run, "pathlat.txt")):
            w = line.split()
            if len(w) == 3:
                d[w[0]] = float(w[1])
    except OSError:
        pass
    return d


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def main(argv):
    run, mode, hosts = argv[1], argv[2], int(argv[3])
    out = []
    total, alive = survived(run)
    out.append(("migration_sessions_survived_pct", pct(alive, total), "%"))
    out.append(("migration_sessions", total, "sessions"))
    out.append(("migration_drain_forced",
                os.path.exists(os.path.join(run, "forced")), "bool"))
    started, done = workload(run)
    out.append(("migration_workload_answered_pct", pct(done, started), "%"))
    out.append(("migration_workload_connections", started, "connections"))

    ev = events(run)
    per = paths(run, ev)
    moved = {p: sum(c.get(p, 0) for k, c in per.items() if k != "before")
             for p in ("local", "direct", "rerouted", "lost", "cached")}
    forwarded = moved["direct"] + moved["rerouted"]
    out.append(("migration_first_packet_direct_pct",
                pct(moved["direct"], forwarded), "%"))
    for cause in ("drain", "join", "restart"):
        c = per.get(cause, {})
        f = c.get("direct", 0) + c.get("rerouted", 0)
        out.append(("migration_first_packet_direct_pct_" + cause,
                    pct(c.get("direct", 0), f), "%"))
        out.append(("migration_first_packets_" + cause, f, "packets"))
        out.append(("migration_first_packet_cached_pct_" + cause,
                    pct(c.get("cached", 0), f), "%"))
    out.append(("migration_first_lost", moved["lost"], "packets"))
    pl = pathlat(run)
    for p in ("direct", "rerouted"):
        for q in ("p50", "p99"):
            out.append(("migration_first_%s_%s_us" % (p, q),
                        pl.get("pathlat_first_%s_%s_us" % (p, q), 0), "us"))
    out.append(("migration_steady_direct_p50_us",
                pl.get("pathlat_all_direct_p50_us", 0), "us"))

    # Of the first packets at a new ingress sent on, those sent from a
    # cached template (their GUE carried the hint flag).
    out.append(("migration_first_packet_cached_pct",
                pct(moved["cached"], forwarded), "%"))

    idle_s = num(os.path.join(run, "t_idle1")) - num(os.path.join(run, "t_idle0"))
    span = num(os.path.join(run, "t_end")) - num(os.path.join(run, "t_begin"))
    idle = sum(gossip(run, "idle1", k, "bytes_out") -
               gossip(run, "idle0", k, "bytes_out")
               for k in range(1, hosts + 1))
    busy = sum(gossip(run, "end", k, "bytes_out") -
               gossip(run, "begin", k, "bytes_out")
               for k in range(1, hosts + 1))
    idle_rate = idle / idle_s / hosts if idle_s > 0 else 0
    busy_rate = busy / span / hosts if span > 0 else 0
    out.append(("ownership_bytes_per_node_s", busy_rate - idle_rate, "B/s"))
    out.append(("gossip_bytes_per_node_s_idle", idle_rate, "B/s"))
    rec = [gossip(run, "end", k, "records") for k in range(1, hosts + 1)]
    mem = [gossip(run, "end", k, "records_bytes")
           for k in range(1, hosts + 1)]
    l1 = [load(os.path.join(run, "end-cache-%d.json" % k)).get(
        "cache", {}).get("l1", 0) for k in range(1, hosts + 1)]
    out.append(("ownership_records_per_node", sum(rec) / hosts, "records"))
    out.append(("ownership_memory_per_node_bytes", sum(mem) / hosts, "bytes"))
    out.append(("cache_l1_entries_per_node", sum(l1) / hosts, "entries"))
    for name, v, unit in out:
        print("%s_%s %.1f %s" % (name, mode, v, unit))


if __name__ == "__main__":
    main(sys.argv)
