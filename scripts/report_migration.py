# SPDX-License-Identifier: GPL-2.0-only
"""The demo report's migration section (scripts/report.py --migration).

DIR is bench/lab/migration_story.sh's --out folder: figures.txt (what the
story printed, `name value unit` lines with the mode as suffix) and one
folder per mode holding h1.dat (bench/lab/migscore.py --plot 1: per
second h1's CPU forecast, its sessions' top migration score, its drain
state, its CPU and its high-water mark). Per mode, one plot of h1's load
against its forecast and the drain it caused, and a table of what the
migrations cost and kept.
"""
import os
import subprocess

MODES = (("directory_hints", "directory + hints"),
         ("directory", "directory"),
         ("flood", "flood"))

# (figure, what it is, format)
ROWS = (
    ("migration_sessions_survived_pct", "sessions survived", "%.0f%%"),
    ("migration_workload_answered_pct", "workload connections answered",
     "%.0f%%"),
    ("migration_first_packet_direct_pct_drain",
     "first packets after the drain straight to the owner", "%.1f%%"),
    ("migration_first_packet_direct_pct_join",
     "first packets after the join straight to the owner", "%.1f%%"),
    ("migration_first_packet_cached_pct",
     "first packets at a new ingress from a cached template", "%.1f%%"),
    ("migration_first_lost", "first packets lost", "%.0f"),
    ("migration_first_rerouted_p99_us",
     "first packet through a home, p99 extra latency (us)", "%.1f"),
    ("ownership_bytes_per_node_s", "ownership bytes per node and second",
     "%.0f"),
    ("ownership_records_per_node", "session records per node", "%.0f"),
    ("cache_l1_entries_per_node", "header cache L1 entries per node",
     "%.1f"),
    ("migration_precision", "migration score precision", "%.2f"),
    ("migration_recall", "migration score recall", "%.2f"),
    ("migration_lead_ms", "migration score lead (ms)", "%.0f"),
)


def figures(path):
    out = {}
    try:
        for line in open(path):
            w = line.split()
            if len(w) >= 2:
                try:
                    out[w[0]] = float(w[1])
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def plot(out, name, title, dat):
    script = """set terminal pngcairo size 900,420 font ",10"
set output "%s"
set title "%s"
set xlabel "s from the start of the story"
set ylabel "CPU (permille of the machine)"
set y2label "top migration score (x1000)"
set y2tics
set ytics nomirror
set yrange [0:1000]
set y2range [0:1000]
set key below
set style fill transparent solid 0.15 noborder
plot "%s" using 1:($4 > 0 ? 1000 : 0) with filledcurves x1 lc rgb "#888888" title "drained", \\
     "%s" using 1:5 with lines lw 2 lc rgb "#0969da" title "CPU (its cgroup)", \\
     "%s" using 1:2 with lines lw 2 dt 2 lc rgb "#9a6700" title "forecast 60 s ahead", \\
     "%s" using 1:6 with lines lc rgb "#cf222e" title "high-water mark", \\
     "%s" using 1:3 axes x1y2 with lines lc rgb "#1a7f37" title "top score"
""" % (os.path.join(out, name + ".png"), title.replace('"', "'"),
       dat, dat, dat, dat, dat)
    r = subprocess.run(["gnuplot"], input=script.encode(),
                       capture_output=True, timeout=60)
    if r.returncode:
        raise RuntimeError("gnuplot: " + r.stderr.decode())


def section(out, run_dir, title):
    """Markdown lines of the section; its plots written into out."""
    fig = figures(os.path.join(run_dir, "figures.txt"))
    modes = [(m, t) for m, t in MODES
             if "migration_sessions_survived_pct_" + m in fig]
    if not modes:
        raise RuntimeError("%s: no figures of any mode" % run_dir)
    md = ["## %s" % title, "",
          "The header cache's story (bench/lab/migration_story.sh): h1's "
          "forecast drains it, h5 joins, h3's steerd is killed and "
          "started again, with both cores busy.", "",
          "| figure | " + " | ".join(t for _, t in modes) + " |",
          "| --- |" + " ---: |" * len(modes)]
    forced = [fig.get("migration_drain_forced_" + m) == 1.0
              for m, _ in modes]
    for key, what, fmt in ROWS:
        vals = [fig.get(key + "_" + m) for m, _ in modes]
        if key.startswith(("migration_precision", "migration_recall",
                           "migration_lead")):
            # The operator drained it: nothing was predicted to score.
            vals = [None if f else v for v, f in zip(vals, forced)]
        if all(v is None for v in vals):
            continue
        md.append("| %s | %s |" % (what, " | ".join(
            fmt % v if v is not None else "-" for v in vals)))
    if any(forced):
        md.append("")
        md.append("\\- : the forecast did not drain h1 in time (the "
                  "machine's other work took its share), so the operator "
                  "did; the score had no drain to predict.")
    md.append("")
    for m, t in modes:
        dat = os.path.join(run_dir, m, "h1.dat")
        if not os.path.exists(dat):
            continue
        name = "migration-" + m
        plot(out, name, "h1's load, its forecast and its drain (%s)" % t,
             dat)
        md.append("![%s](%s.png)\n" % (name, name))
    return md
