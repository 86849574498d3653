#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""steerd's HTTP server end to end, on loopback (no root needed).

A real steerd (the userspace data plane, the fixture cluster) with
'http-listen 127.0.0.1:0':
- /metrics is valid Prometheus exposition (promtool check metrics), every
  group is described (no untyped family), the figures move (a second
  scrape counts the first) and match the admin socket's;
- /api/ answers the read-only admin commands and refuses the others;
  a method but GET/HEAD is 405, an unknown path 404;
- the status page, loaded in headless Chromium, fills in live data: the
  cluster's nodes, and an update count that keeps rising.
Exit 0 pass, 1 fail, 77 when promtool or Chromium is missing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("STEER_BIN", "build/bin")
SRC = os.environ.get("STEER_SRC", ".")
failures = []


def check(ok, msg):
    if not ok:
        print("FAIL: " + msg)
        failures.append(msg)


def get(port, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def start_steerd(tmp):
    shutil.copy(os.path.join(SRC, "tests/fixtures/steerd/cluster.conf"), tmp)
    conf = os.path.join(tmp, "steerd.conf")
    with open(conf, "w") as f:
        f.write("cluster-file cluster.conf\nadmin-socket %s/admin.sock\n"
                "http-listen 127.0.0.1:0\n" % tmp)
    log = open(os.path.join(tmp, "log"), "w+")
    p = subprocess.Popen([os.path.join(BIN, "steerd"), "-c", conf, "-f"],
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        log.seek(0)
        m = re.search(r"status page on port (\d+)", log.read())
        if m:
            return p, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    print(log.read())
    p.kill()
    print("FAIL: steerd did not say its HTTP port")
    sys.exit(1)


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def check_metrics(port, tmp):
    st, ctype, body = get(port, "/metrics")
    check(st == 200 and ctype.startswith("text/plain; version=0.0.4"),
          "/metrics: %d %s" % (st, ctype))
    text = body.decode()
    r = subprocess.run(["promtool", "check", "metrics"], input=body,
                       capture_output=True, timeout=30)
    check(r.returncode == 0,
          "promtool check metrics: " + (r.stdout + r.stderr).decode())
    check("untyped" not in text, "a group is not described:\n" +
          "\n".join(line for line in text.splitlines() if "untyped" in line))
    check(re.search(r'^steer_build_info\{version="[^"]+",cluster="lab",'
                    r'node="n1",mode="cell"\} 1$', text, re.M),
          "no steer_build_info for n1 of lab")
    check(re.search(r'^steer_fastpath_drops_total\{reason="parse"\} 0$',
                    text, re.M), "no drop reasons as labels")
    check(metric(text, "steer_fsc_capacity") == 1024,
          "steer_fsc_capacity is not the fixture's 1024")
    first = metric(text, "steer_http_metrics_scrapes_total")
    text2 = get(port, "/metrics")[2].decode()
    second = metric(text2, "steer_http_metrics_scrapes_total")
    check(first is not None and second == first + 1,
          "scrapes: %s then %s" % (first, second))
    # The same figure through the admin socket.
    out = subprocess.run([os.path.join(BIN, "steerctl"), "-s",
                          tmp + "/admin.sock", "-j", "counters"],
                         capture_output=True, timeout=10).stdout
    cap = json.loads(out)["fsc"]["capacity"]
    check(cap == metric(text2, "steer_fsc_capacity"),
          "steerctl says capacity %s" % cap)


def check_api(port):
    st, ctype, body = get(port, "/api/version")
    doc = json.loads(body) if st == 200 else {}
    check(st == 200 and ctype == "application/json" and doc.get("ok") and
          doc["result"]["self"] == "n1", "/api/version: %d %r" % (st, body))
    st, _, body = get(port, "/api/nodes")
    names = [n["name"] for n in json.loads(body)["result"]["nodes"]]
    check(names == ["n1", "n2", "n3"], "/api/nodes: %r" % names)
    for path in ("/api/flow-del", "/api/drain", "/api/", "/nothing"):
        st = get(port, path)[0]
        check(st == 404, "%s: %d, not 404" % (path, st))
    for method in ("POST", "PUT", "DELETE"):
        st = get(port, "/metrics", method)[0]
        check(st == 405, "%s /metrics: %d, not 405" % (method, st))


def check_page(port, tmp):
    st, ctype, body = get(port, "/")
    check(st == 200 and ctype.startswith("text/html"), "/: %d" % st)
    r = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--user-data-dir=" + tmp + "/chromium",
         "--virtual-time-budget=4000", "--dump-dom",
         "http://127.0.0.1:%d/" % port],
        capture_output=True, timeout=90)
    dom = r.stdout.decode()
    check(r.returncode == 0, "chromium: %s" % r.stderr.decode()[-400:])
    check("steer: lab / n1 (cell mode" in dom,
          "the page does not name the cluster and node:\n" + dom[:600])
    for name in ("n2", "n3", "198.18.0.2", "2001:db8::3"):
        check("<td>%s</td>" % name in dom, "the page lacks node %s" % name)
    m = re.search(r'data-updates="(\d+)"', dom)
    check(m and int(m.group(1)) >= 2,
          "the page did not update live: %s" % (m and m.group(0)))


def main():
    for tool in ("promtool", "chromium"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed (scripts/deps.sh)" % tool)
            sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="st-httpd.")
    p, port = start_steerd(tmp)
    try:
        check_metrics(port, tmp)
        check_api(port)
        check_page(port, tmp)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("ok: /metrics, /api/ and the status page")


if __name__ == "__main__":
    main()
