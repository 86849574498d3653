#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""scripts/report.py, the demo's report, on a story's files made here.

One host-mode story (v4.csv with two connections, one broken; an event)
and the header cache's story in two modes (figures.txt and h1.dat per
mode): the report's table says what survived, the migration section's
table carries each mode's figures in its column, every plot is a PNG
gnuplot drew, and a migration folder with no figures is refused with
exit status 1. Skipped (77) without gnuplot.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
REPORT = os.path.join(TOP, "scripts", "report.py")
PNG = b"\x89PNG\r\n\x1a\n"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def story(d):
    write(os.path.join(d, "v4.csv"),
          "proto,state,longest_gap_ms,longest_gap_at_ms,broken_at_ms\n"
          "tcp,survived,4.0,1500,\n"
          "tcp,broken,9.0,2500,3000\n")
    write(os.path.join(d, "events.csv"), "2000,h3 leaves\n")


def migration(d):
    write(os.path.join(d, "figures.txt"),
          "migration_sessions_survived_pct_directory_hints 100.0 %\n"
          "migration_first_packet_direct_pct_join_directory_hints 97.5 %\n"
          "ownership_bytes_per_node_s_directory_hints 4109.4 B/s\n"
          "migration_sessions_survived_pct_flood 99.0 %\n"
          "migration_first_packet_direct_pct_join_flood 100.0 %\n"
          "ownership_bytes_per_node_s_flood 22284.6 B/s\n"
          "migration_precision_directory_hints 0.97 ratio\n"
          "migration_precision_flood 0.0 ratio\n"
          "migration_drain_forced_flood 1.0 bool\n")
    rows = "".join("%d %d %d %d %s 300\n" % (
        t, 100 if t < 5 else 450, 20 if t < 5 else 900,
        1000 if t >= 7 else 0, "NaN" if t == 3 else str(150 + 40 * t))
        for t in range(12))
    for m in ("directory_hints", "flood"):
        write(os.path.join(d, m, "h1.dat"), "# t fc score drained cpu hw\n"
              + rows)


def main():
    if not shutil.which("gnuplot"):
        print("SKIP: no gnuplot")
        return 77
    tmp = tempfile.mkdtemp(prefix="steer-report-")
    try:
        story(os.path.join(tmp, "host"))
        migration(os.path.join(tmp, "mig"))
        out = os.path.join(tmp, "out")
        r = subprocess.run([sys.executable, REPORT, out,
                            os.path.join(tmp, "host") + "=host story",
                            "--migration",
                            os.path.join(tmp, "mig") + "=The cache's story"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode:
            fail("report.py exited %d: %s" % (r.returncode, r.stderr))
        md = open(os.path.join(out, "report.md")).read()
        for want in ("| host story | IPv4 | 2/2 | 1/2 | 9 ms |",
                     "## The cache's story",
                     "| figure | directory + hints | flood |",
                     "| sessions survived | 100% | 99% |",
                     "| first packets after the join straight to the owner"
                     " | 97.5% | 100.0% |",
                     "| ownership bytes per node and second | 4109 | 22285 |",
                     "| migration score precision | 0.97 | - |",
                     "the operator did",
                     "![migration-flood](migration-flood.png)"):
            if want not in md:
                fail("report.md lacks %r:\n%s" % (want, md))
        if "directory |" in md.replace("directory + hints |", ""):
            fail("a mode without figures has a column:\n" + md)
        for png in ("run0-v4.png", "migration-directory_hints.png",
                    "migration-flood.png"):
            with open(os.path.join(out, png), "rb") as f:
                if f.read(8) != PNG:
                    fail(png + " is not a PNG")
        os.makedirs(os.path.join(tmp, "empty"))
        r = subprocess.run([sys.executable, REPORT, out,
                            os.path.join(tmp, "host") + "=host story",
                            "--migration", os.path.join(tmp, "empty") + "=x"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 1 or "no figures" not in r.stderr:
            fail("an empty migration folder: exit %d, %r"
                 % (r.returncode, r.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
