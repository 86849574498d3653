#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""steer-spe-eval on two real flow-size distributions (web search and
Alibaba storage), deterministic by its seed.

The state prediction engine must beat both baselines on the Brier score
once flows have lived 100 ms and 1 s, be calibrated (every tenth of its
answers that holds 1,000 or more lands within 0.05 of what happened),
and its mirroring policy must leave less of the long flows' time
unmirrored than promoting flows after a second, with fewer mirrors than
a fixed rf. Without calibration the engine's raw shares are off by more:
the calibration check can fail. Bad usage and a bad CDF are refused.
"""
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("STEER_BIN", "build/bin")
SRC = os.environ.get("STEER_SRC", ".")
CDFS = [os.path.join(SRC, "tests/data/workloads/flow_size_cdfs", n)
        for n in ("hpcc_WebSearch_distribution.txt",
                  "hpcc_AliStorage2019.txt")]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(*extra):
    cmd = [os.path.join(BIN, "steer-spe-eval"), "--flows", "60000",
           "--seed", "3"] + list(extra)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def parse(out):
    quality, calib, policy = {}, {}, {}
    for line in out.splitlines():
        w = line.split()
        if w[0] == "quality":
            quality[(w[1], int(w[2]))] = float(w[8])
        elif w[0] == "calib":
            calib.setdefault(w[1], []).append(
                (float(w[4]), float(w[6]), int(w[8])))
        elif w[0] == "policy":
            policy[w[1]] = (float(w[3]), float(w[7]))
    return quality, calib, policy


def worst_gap(bins):
    return max((abs(p - o) for p, o, n in bins if n >= 1000), default=0)


def main():
    r = run("--threshold", "0.1", *CDFS)
    if r.returncode != 0:
        fail("exit %d: %s" % (r.returncode, r.stderr))
    quality, calib, policy = parse(r.stdout)
    for age in (100, 1000):
        spe, age_m, fixed = (quality[(m, age)]
                             for m in ("spe", "age", "fixed"))
        if not spe < age_m < fixed:
            fail("Brier at %d ms: spe %.4f, age %.4f, fixed %.4f" %
                 (age, spe, age_m, fixed))
    gap = worst_gap(calib["spe"])
    if gap > 0.05:
        fail("spe is off by %.3f in a tenth of its answers" % gap)
    mirrors, exposed = policy["spe"]
    if not (mirrors < 0.8 * policy["fixed"][0] and
            exposed < policy["promote_1000ms"][1]):
        fail("spe policy: %.1f mirrors per 100, %.5f of long flows' time "
             "exposed; fixed %s, promote_1000ms %s" %
             (mirrors, exposed, policy["fixed"], policy["promote_1000ms"]))
    raw = run("--threshold", "0.1", "--no-calibration", *CDFS)
    raw_gap = worst_gap(parse(raw.stdout)[1]["spe"])
    if raw_gap <= gap:
        fail("calibration did not narrow the gap: %.3f raw, %.3f" %
             (raw_gap, gap))

    tmp = tempfile.mkdtemp(prefix="st-spe.")
    bad = os.path.join(tmp, "bad.txt")
    with open(bad, "w") as f:
        f.write("1000 0\n2000 60\n3000 40\n")
    for args, want in (((), 2), (("--threshold", "0", CDFS[0]), 2),
                       (("--flows", "x", CDFS[0]), 2), ((bad,), 1),
                       ((os.path.join(tmp, "none.txt"),), 1)):
        r = run(*args)
        if r.returncode != want or not r.stderr:
            fail("%s: exit %d, expected %d with a message" %
                 (" ".join(args), r.returncode, want))
    os.remove(bad)
    os.rmdir(tmp)
    print("[figure] spe vs age vs fixed, Brier at 1 s: %.4f %.4f %.4f" %
          (quality[("spe", 1000)], quality[("age", 1000)],
           quality[("fixed", 1000)]))
    print("[figure] spe policy: %.1f mirrors per 100 flows, %.5f of long "
          "flows' time unmirrored (promote after 1 s: %.1f, %.5f)" %
          (mirrors, exposed, policy["promote_1000ms"][0],
           policy["promote_1000ms"][1]))
    print("PASS: calibrated within %.3f (raw %.3f)" % (gap, raw_gap))


if __name__ == "__main__":
    main()
