# SPDX-License-Identifier: GPL-2.0-only
"""The migration score's precision, recall and lead time, from a lab run
recorded once a second: OUT/rec/mig-K-T.json (`steerctl -j migrations`
of node K at second T) and OUT/rec/drain-K-T.json (`steerctl -j drain
status`). A session migrates when its node drains while it lives (its
packets then arrive elsewhere; a node drained from its start, as the
story's joiner is, migrates none of the sessions it has after it joined); it is predicted when its score reached
0.5 at least 1 s before that; recall_1s_old leaves out the sessions
first scored less than 1 s before the drain (none could be named 1 s
ahead). Prints `name value unit` lines; with
--plot NODE, writes OUT/hNODE.dat for a plot of that node's CPU forecast,
its sessions' top score, its drain state and (when the story saved the
node's series) its CPU per second.

    python3 migscore.py OUT HOSTS SECONDS [--plot NODE] [--suffix S]
"""
import json
import os
import statistics
import sys


def load(path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        return None
    return d.get("result", d)


def record(out, hosts, secs):
    drain_at = {}  # node -> first second it was drained
    sess = {}      # (node, src, sport) -> {t: score}
    for k in range(1, hosts + 1):
        for t in range(secs):
            d = load(os.path.join(out, "rec", "drain-%d-%d.json" % (k, t)))
            if d and d.get("drained") and k not in drain_at:
                drain_at[k] = t
            m = load(os.path.join(out, "rec", "mig-%d-%d.json" % (k, t)))
            for s in (m or {}).get("sessions", []):
                sess.setdefault((k, s["src"], s["sport"]), {})[t] = s["score"]
    return drain_at, sess


def score(drain_at, sess):
    """tp, fp, fn, leads, and fn_young: the missed sessions first scored
    less than 1 s before their node drained, which no prediction 1 s
    ahead could have named."""
    tp = fp = fn = fn_young = 0
    leads = []
    for (k, _src, _sport), scores in sess.items():
        T = drain_at.get(k)
        before = {t: p for t, p in scores.items() if T is None or t < T}
        # Alive when its node drained: a session born after (on a node
        # drained since its start and undrained later) did not migrate.
        migrated = (T is not None and min(scores) <= T
                    and any(t >= T - 1 for t in scores))
        hits = sorted(t for t, p in before.items() if p >= 0.5)
        ahead = [t for t in hits if T is not None and t <= T - 1]
        if migrated and ahead:
            tp += 1
            leads.append((T - ahead[0]) * 1000)
        elif migrated:
            fn += 1
            fn_young += min(scores) >= T - 1
        elif hits:
            fp += 1
    return tp, fp, fn, fn_young, leads


def cpu_series(out, node):
    """{story second: the node's CPU sample (permille)}, from the node's
    whole CPU series read after the story (OUT/fc-series-NODE.json, its
    read time in OUT/t_fcseries) and the story's start (OUT/t_story0, ns):
    the series' last sample is the second it was read."""
    d = load(os.path.join(out, "fc-series-%d.json" % node))
    try:
        t_read = float(open(os.path.join(out, "t_fcseries")).read())
        t0 = float(open(os.path.join(out, "t_story0")).read()) / 1e9
    except (OSError, ValueError):
        return {}
    for s in (d or {}).get("series", []):
        if s.get("series") == "cpu_permille":
            v = s.get("values", [])
            period = d.get("period_ms", 1000) / 1000.0
            return {int(round(t_read - (len(v) - 1 - j) * period - t0)): x
                    for j, x in enumerate(v)}
    return {}


def plot_data(out, node, secs):
    cpu = cpu_series(out, node)
    with open(os.path.join(out, "h%d.dat" % node), "w") as f:
        f.write("# t fc_cpu_permille max_score_x1000 drained_x1000 "
                "cpu_permille high_water_permille\n")
        for t in range(secs):
            m = load(os.path.join(out, "rec", "mig-%d-%d.json" % (node, t)))
            if not m:
                continue
            top = max([s["score"] for s in m.get("sessions", [])] or [0])
            c = cpu.get(t)
            f.write("%d %d %d %d %s %d\n" % (
                t, m["node"]["fc_cpu"], 1000 * top,
                1000 * bool(m["node"]["drained"]),
                "%.0f" % c if c is not None else "NaN",
                m["node"].get("high_water_permille", 0)))


def main(argv):
    out, hosts, secs = argv[1], int(argv[2]), int(argv[3])
    plot = int(argv[argv.index("--plot") + 1]) if "--plot" in argv else 0
    sfx = argv[argv.index("--suffix") + 1] if "--suffix" in argv else ""
    drain_at, sess = record(out, hosts, secs)
    tp, fp, fn, young, leads = score(drain_at, sess)
    print("migration_drains%s %d nodes" % (sfx, len(drain_at)))
    for k, t in sorted(drain_at.items()):
        print("migration_drain_at_s_h%d%s %d s" % (k, sfx, t))
    print("migration_sessions_scored%s %d sessions" % (sfx, len(sess)))
    print("migration_migrated%s %d sessions" % (sfx, tp + fn))
    print("migration_precision%s %.3f ratio" % (sfx, tp / (tp + fp) if tp + fp else 0))
    print("migration_recall%s %.3f ratio" % (sfx, tp / (tp + fn) if tp + fn else 0))
    old = tp + fn - young
    print("migration_recall_1s_old%s %.3f ratio" % (sfx, tp / old if old else 0))
    print("migration_migrated_1s_old%s %d sessions" % (sfx, old))
    print("migration_lead_ms%s %d ms" % (sfx, statistics.median(leads) if leads else 0))
    if plot:
        plot_data(out, plot, secs)


if __name__ == "__main__":
    main(sys.argv)
