#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Send gossip datagrams captured in a pcap again, as they were (replays)
and with one byte of their body flipped (forgeries), to ADDR PORT.

Usage: gossip_inject.py PCAP ADDR PORT COUNT
Prints "replayed N forged N". Exit 1 when the capture holds no UDP
datagram. Reads classic pcap (Ethernet or Linux cooked) only: what
tshark -F pcap writes.
"""
import socket
import struct
import sys


def udp_payloads(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack_from(end + "I", data, off + 8)[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        l2 = 14 if linktype == 1 else 16 if linktype == 113 else None
        if l2 is None or len(pkt) < l2 + 28:
            continue
        etype = struct.unpack_from(">H", pkt, l2 - 2)[0]
        ip = pkt[l2:]
        if etype == 0x0800 and ip[9] == 17:
            udp = ip[(ip[0] & 15) * 4:]
        elif etype == 0x86DD and ip[6] == 17:
            udp = ip[40:]
        else:
            continue
        out.append(udp[8:struct.unpack_from(">H", udp, 4)[0]])
    return out


def main():
    path, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    dgrams = [d for d in udp_payloads(path) if len(d) > 8]
    if not dgrams:
        print("no UDP datagram in %s" % path, file=sys.stderr)
        return 1
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    replayed = forged = 0
    for i in range(count):
        d = dgrams[i % len(dgrams)]
        s.sendto(d, (addr, port))
        replayed += 1
        bad = bytearray(d)
        bad[len(bad) // 2] ^= 0x01
        s.sendto(bytes(bad), (addr, port))
        forged += 1
    print("replayed %d forged %d" % (replayed, forged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
