#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# A wire with a delay, for the lab (lab_link_impair in lab/lib.sh): every
# frame one interface receives leaves by the other DELAY ms later, both
# ways, in order. This kernel has neither netem nor a qdisc that holds a
# packet until a given time (fq, etf), so the delay is made here.
#
# Frames are read and written with their offload header (PACKET_VNET_HDR):
# a frame whose checksum the sender left to "hardware", or a GSO frame of
# many segments, goes on as it came, as over the veth it replaces.
# The wire drops nothing on purpose (loss is nftables' business); a frame
# the kernel refuses to take (a full queue) is counted.
#
# Usage: chaos_wire.py --a IF --b IF --delay-ms MS --seconds S [--ready F]
# Bounded: it ends by itself after S seconds (or at SIGTERM), printing
# what it carried. --ready F is created once both sockets are bound.
import argparse
import collections
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
FRAME_MAX = 65536 + 10  # a GSO frame and its virtio-net header


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    # Its own transmissions are not frames to carry back.
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--ready")
    o = ap.parse_args()
    if not 0 < o.seconds <= 600 or not 0 <= o.delay_ms <= 1000:
        sys.exit("chaos_wire: --seconds expects 0..600, --delay-ms 0..1000")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    a, b = open_if(o.a), open_if(o.b)
    peer = {a.fileno(): b, b.fileno(): a}
    # One queue per direction: a constant delay keeps each in order.
    queue = {a.fileno(): collections.deque(), b.fileno(): collections.deque()}
    carried = refused = 0
    delay = o.delay_ms / 1000.0
    end = time.monotonic() + o.seconds
    p = select.epoll()
    p.register(a.fileno(), select.EPOLLIN)
    p.register(b.fileno(), select.EPOLLIN)
    if o.ready:
        open(o.ready, "w").close()
    while not stop:
        now = time.monotonic()
        if now >= end:
            break
        for fd, q in queue.items():
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    peer[fd].send(frame)
                    carried += 1
                except OSError:
                    refused += 1
        due = min([q[0][0] for q in queue.values() if q] + [end])
        try:
            evs = p.poll(max(0.0, due - time.monotonic()))
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in evs:
            s = b if fd == b.fileno() else a
            for _ in range(64):
                try:
                    frame = s.recv(FRAME_MAX)
                except BlockingIOError:
                    break
                queue[fd].append((now + delay, frame))
    print("chaos_wire: %s <-> %s, %.1f ms: %d frames carried, %d refused, "
          "%d left" % (o.a, o.b, o.delay_ms, carried, refused,
                       sum(len(q) for q in queue.values())))


if __name__ == "__main__":
    main()
