#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The demo's report: Markdown with PNG plots (gnuplot) of the lab stories.

    report.py OUT RUN_DIR=TITLE [RUN_DIR=TITLE...] [--shot PNG]
              [--migration DIR=TITLE]

Each RUN_DIR is a story's --csv folder: steer-traffic's per-flow rows
(v4.csv, v6.csv: state, longest gap and when, when broken; times in ms
from the start of the traffic) and events.csv ("ms,what" rows, the
story's faults at their ms from the same start). Per run and family, one
plot: the live TCP connections over time (established ones, less those
broken by then) and every connection's longest gap at the time it
happened, with the events as vertical lines; and a table of what
survived. --shot adds a screenshot (the status page); --migration a
section of the header cache's story (scripts/report_migration.py: a
node's load against its forecast and drain, what the migrations kept and
cost per mode). Writes OUT/report.md
and OUT/*.png; exit 1 when a run has no rows or gnuplot fails, 2 for bad
usage.
"""
import csv
import os
import shutil
import subprocess
import sys

import report_migration


def usage():
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


def read_flows(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["proto"] == "tcp"]


def read_events(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            ms, _, what = line.strip().partition(",")
            if ms:
                out.append((float(ms) / 1000, what))
    return out


def live_series(flows):
    """(s, live) steps: established flows, less those broken by then."""
    est = [r for r in flows if r["state"] != "failed"]
    broken = sorted(float(r["broken_at_ms"]) / 1000 for r in est
                    if r["broken_at_ms"])
    end = max([float(r["longest_gap_at_ms"]) / 1000 for r in est] +
              broken + [1.0])
    pts, live = [(0.0, len(est))], len(est)
    for t in broken:
        pts.append((t, live))
        live -= 1
        pts.append((t, live))
    pts.append((end + 0.5, live))
    return pts


def gap_points(flows):
    return [(float(r["longest_gap_at_ms"]) / 1000,
             max(float(r["longest_gap_ms"]), 1.0))
            for r in flows if r["state"] != "failed"]


def label(what):
    """An event's text, short enough to stand along the plot."""
    what = what.replace('"', "'")
    return what if len(what) <= 48 else what[:45] + "..."


def plot(out, name, title, flows, events):
    data = os.path.join(out, name + ".dat")
    with open(data, "w") as f:
        for t, n in live_series(flows):
            f.write("%.3f %d\n" % (t, n))
        f.write("\n\n")
        for t, g in gap_points(flows):
            f.write("%.3f %.1f\n" % (t, g))
    arrows = "".join(
        'set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc rgb "#888888"\n'
        'set label "%s" at %.3f, graph 0.97 rotate by 90 right font ",9"\n'
        % (t, t, label(what), t + 0.05) for t, what in events)
    script = """set terminal pngcairo size 900,420 font ",10"
set output "%s"
set title "%s"
set xlabel "s from the start of the traffic"
set ylabel "live TCP connections"
set y2label "longest gap of a connection (ms)"
set logscale y2
set y2tics
set ytics nomirror
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set key bottom left
%splot "%s" index 0 with lines lw 2 lc rgb "#0969da" title "live", \\
     "%s" index 1 axes x1y2 with points pt 7 ps 0.5 lc rgb "#cf222e" title "longest gap"
""" % (os.path.join(out, name + ".png"), title.replace('"', "'"), arrows,
       data, data)
    r = subprocess.run(["gnuplot"], input=script.encode(),
                       capture_output=True, timeout=60)
    os.unlink(data)
    if r.returncode:
        print("report: gnuplot: " + r.stderr.decode(), file=sys.stderr)
        sys.exit(1)


def summary(flows):
    est = [r for r in flows if r["state"] != "failed"]
    surv = sum(1 for r in flows if r["state"] == "survived")
    gap = max([float(r["longest_gap_ms"]) for r in est] + [0])
    return len(flows), len(est), surv, gap


def main():
    args, shot, mig = [], None, None
    argv = sys.argv[1:]
    while argv:
        a = argv.pop(0)
        if a == "--shot" and argv:
            shot = argv.pop(0)
        elif a == "--migration" and argv and "=" in argv[0]:
            mig = argv.pop(0)
        elif a.startswith("-"):
            usage()
        else:
            args.append(a)
    if len(args) < 2 or any("=" not in a for a in args[1:]):
        usage()
    out = args[0]
    os.makedirs(out, exist_ok=True)
    md = ["# steer: the demo's report", "",
          "Each plot: the live TCP connections of one story over time "
          "(blue), every connection's longest gap when it happened (red, "
          "log scale), the story's events (dashed).", "",
          "| run | family | TCP established | survived | longest gap |",
          "| --- | --- | ---: | ---: | ---: |"]
    plots = []
    for i, spec in enumerate(args[1:]):
        d, _, title = spec.partition("=")
        events = read_events(os.path.join(d, "events.csv"))
        if not any(os.path.exists(os.path.join(d, "v%s.csv" % f))
                   for f in ("4", "6")):
            print("report: %s holds no v4.csv or v6.csv" % d, file=sys.stderr)
            sys.exit(1)
        for fam in ("4", "6"):
            path = os.path.join(d, "v%s.csv" % fam)
            if not os.path.exists(path):
                continue
            flows = read_flows(path)
            if not flows:
                print("report: %s has no TCP rows" % path, file=sys.stderr)
                sys.exit(1)
            n, est, surv, gap = summary(flows)
            md.append("| %s | IPv%s | %d/%d | %d/%d | %.0f ms |"
                      % (title, fam, est, n, surv, est, gap))
            name = "run%d-v%s" % (i, fam)
            plot(out, name, "%s, IPv%s" % (title, fam), flows, events)
            plots.append("## %s, IPv%s\n\n![%s](%s.png)\n" %
                         (title, fam, name, name))
    md.append("")
    md.extend(plots)
    if mig:
        d, _, title = mig.partition("=")
        try:
            md.extend(report_migration.section(out, d, title))
        except (OSError, RuntimeError) as e:
            print("report: %s" % e, file=sys.stderr)
            sys.exit(1)
    if shot and os.path.exists(shot):
        if os.path.abspath(os.path.dirname(shot)) != os.path.abspath(out):
            shutil.copy(shot, out)
        md.append("## The status page of a live cell\n\n![status](%s)\n"
                  % os.path.basename(shot))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))
    print("report: %s" % os.path.join(out, "report.md"))


if __name__ == "__main__":
    main()
