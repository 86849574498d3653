#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""steer-workload against steer-echo on loopback, over real TCP.

A shape of two steps, the first ten times the second: the connections
started per step follow it (Poisson, so within wide bounds), every one
is answered line for line and closed, the bytes drawn from a flow-size
CDF with a known floor and cap. Bad input (a CDF that goes down, a
missing option) is refused with a message and exit status 1 or 2.
"""
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("STEER_BIN", "build/bin")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port):
    """Until the echo server takes connections (5 s at most)."""
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    fail("steer-echo does not listen on port %d" % port)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    tmp = tempfile.mkdtemp(prefix="st-workload.")
    shape = os.path.join(tmp, "shape.txt")
    cdf = os.path.join(tmp, "cdf.txt")
    bad = os.path.join(tmp, "bad.txt")
    out = os.path.join(tmp, "steps.csv")
    with open(shape, "w") as f:
        f.write("10\n1\n")
    with open(cdf, "w") as f:  # 1,200 to 24,000 bytes, uniform
        f.write("120000 0\n2400000 100\n")
    with open(bad, "w") as f:
        f.write("1000 0\n2000 60\n3000 40\n")
    port = free_port()
    echo = subprocess.Popen([os.path.join(BIN, "steer-echo"), "--name", "t",
                             "--listen", "127.0.0.1", "--port", str(port),
                             "--duration", "20"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(port)
        args = [os.path.join(BIN, "steer-workload"), "--target", "127.0.0.1",
                "--port", str(port), "--shape", shape, "--sizes", cdf,
                "--rate", "55", "--step-ms", "1000", "--scale", "100",
                "--duration", "2", "--seed", "7", "--csv", out]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            fail("steer-workload exited %d: %s" % (r.returncode, r.stderr))
        f = dict(zip(r.stdout.split()[1::2], r.stdout.split()[2::2]))
        started, done = int(f["started"]), int(f["done"])
        if started < 40 or done != started or int(f["failed"]) != 0:
            fail("not every connection was answered: " + r.stdout)
        rows = list(csv.DictReader(open(out)))
        s0, s1 = int(rows[0]["started"]), int(rows[1]["started"])
        # Rates 100/s then 10/s (55 times 10/5.5 and 1/5.5).
        if not (60 <= s0 <= 140 and 1 <= s1 <= 25 and s0 > 4 * s1):
            fail("arrivals do not follow the shape: %d then %d" % (s0, s1))
        per = int(f["bytes"]) / started
        if not (1200 <= per <= 24000):
            fail("mean flow size %.0f outside the CDF's range" % per)
        for cmd, want in ((args[:5] + args[7:9], 2),
                          (args[:7] + ["--sizes", bad] + args[9:], 1)):
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=30)
            if r.returncode != want or not r.stderr:
                fail("%s: exit %d, expected %d with a message" %
                     (" ".join(cmd[1:]), r.returncode, want))
    finally:
        echo.terminate()
        echo.wait(timeout=10)
    print("PASS: %d connections, %d then %d per step, %.0f bytes each" %
          (started, s0, s1, per))


if __name__ == "__main__":
    main()
