#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare steer's flow keys with tshark's dissection of every capture.

For each capture under $STEER_PCAPS, tests/flowkeys prints the key
parse_packet() gives each frame, and tshark dissects the same frames with
the tunnels steer does not peel turned off, so both stop at the same layer.
The expected key is rebuilt from tshark's layers by the keying rules of
include/steer/parse.h:
  - innermost IP layer outside an ICMP quote: addresses and protocol
    (after the IPv6 extension headers), TCP/UDP ports when present;
  - a fragment (IPv4 MF or offset, IPv6 fragment header not atomic): ports
    zero, flag F;
  - an ICMP/ICMPv6 error: the quoted packet's tuple turned around, flag I;
  - no IP layer: steer says notip.
A frame steer rejects must be one tshark flags at a layer steer parses
(cut short, a length beyond the frame, a bogus header). GUE: katran/ files
use Katran's port 9886 (variant 1, tshark's Decode-As to ip), the others
6080 with tests/lua/gue.lua (variants 0 and 1).
Usage: test_tshark_keys.py [-v] (-v lists the frames steer rejects).
Exit 0 on agreement, 1 on any mismatch, 77 when tshark is missing.
"""
import os
import re
import shutil
import subprocess
import sys

# Tunnels (or carriers of IP) steer does not peel: tshark must stop at the
# same layer, keeping the outer packet as the flow.
DISABLED = ["geneve", "vxlan", "gre", "mpls", "teredo", "l2tp", "pppoes",
            "gtp", "etherip", "ayiya", "capwap.data", "lisp-data", "nsh"]

GUE_PORT = 6080     # steer's default (STEER_GUE_PORT), gue.lua's default
KATRAN_PORT = 9886  # Katran's GUE port
MAX_ENCAP = 3       # STEER_MAX_ENCAP, passed to flowkeys explicitly

FIELDS = ["frame.number", "frame.protocols",
          "ip.src", "ip.dst", "ip.proto", "ip.flags.mf", "ip.frag_offset",
          "ipv6.src", "ipv6.dst", "ipv6.nxt",
          "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.dstopts.nxt",
          "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
          "ah.next_header",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "icmp.type", "icmpv6.type",
          "_ws.malformed", "_ws.short",
          "_ws.expert.message"]  # last: messages may hold commas

# tshark's evidence that a frame is broken at a layer steer parses: an
# expert message of the Ethernet/IP/TCP/UDP/ICMP/GUE dissectors, or a
# malformed-packet item naming one of those protocols. Malformations of
# application protocols do not excuse a steer error.
PACKET_EXPERT = re.compile(r"Bogus|total length|payload length|framing len"
                           r"|IP payload|header length|GUE|must be exactly")
PACKET_PROTOS = re.compile(r"Malformed Packet: (Ethernet|802\.1Q|IPv4|IPv6"
                           r"|TCP|UDP|ICMP|ICMPv6|GUE)\]")
ICMP4_ERRORS = {3, 4, 5, 11, 12}
# IPv6 extension headers steer walks, and the field naming the next one.
IP6_EXT = {"ipv6.hopopts": "ipv6.hopopts.nxt",
           "ipv6.routing": "ipv6.routing.nxt",
           "ipv6.dstopts": "ipv6.dstopts.nxt",
           "ipv6.fraghdr": "ipv6.fraghdr.nxt",
           "ah": "ah.next_header"}

VERBOSE = "-v" in sys.argv[1:]

# Frame-level differences accepted on purpose: (file, frame) -> reason.
# None is needed: every frame agrees, or steer rejects it with tshark's
# evidence.
ALLOWED = {
}
# What steer reports that tshark cannot check, so it is not compared.
UNCOMPARED = {
    "flag S": "steer's own GUE private data: tshark does not know it",
    "flag C": "GUE control messages: the captures hold none",
    "UDP length": "steer rejects only lengths below 8; tshark also flags "
                  "a length beyond the IP payload, which steer keys",
}


class Cut(Exception):
    """tshark's layers end early: a header it could not read whole."""


class Frame:
    """One tshark row: its layers in order, each field's occurrences."""

    def __init__(self, row):
        self.no = int(row["frame.number"])
        self.protos = row["frame.protocols"].split(":")
        self.row = row
        self.occ = []  # occurrence index of each layer among its name
        seen = {}
        for p in self.protos:
            self.occ.append(seen.get(p, 0))
            seen[p] = seen.get(p, 0) + 1
        self.flagged = bool(row["_ws.short"]) or \
            bool(PACKET_EXPERT.search(row["_ws.expert.message"])) or \
            bool(PACKET_PROTOS.search(row["_ws.malformed"]))

    def field(self, name, layer):
        """The value of field name in layer (index into protos)."""
        vals = [v for v in self.row[name].split(",") if v != ""]
        if self.occ[layer] >= len(vals):
            raise Cut(f"{name} missing in layer {layer}")
        return vals[self.occ[layer]]

    def num(self, name, layer):
        v = self.field(name, layer)
        return int(v, 16) if v.startswith("0x") else int(v)

    def true(self, name, layer):
        return self.field(name, layer) in ("1", "True")


def ip_layer(fr, i):
    """Tuple of the IP layer at protos[i]: (family, src, dst, proto, frag,
    index of the layer after its headers)."""
    if fr.protos[i] == "ip":
        frag = fr.true("ip.flags.mf", i) or fr.num("ip.frag_offset", i)
        return (4, fr.field("ip.src", i), fr.field("ip.dst", i),
                fr.num("ip.proto", i), bool(frag), i + 1)
    proto, frag, j = fr.num("ipv6.nxt", i), False, i + 1
    while j < len(fr.protos) and fr.protos[j] in IP6_EXT:
        name = fr.protos[j]
        proto = fr.num(IP6_EXT[name], j)
        # RFC 6946: an atomic fragment (offset 0, no M) is a whole packet.
        if name == "ipv6.fraghdr" and (
                fr.num("ipv6.fraghdr.offset", j) or
                fr.true("ipv6.fraghdr.more", j)):
            frag = True
            break
        j += 1
    return (6, fr.field("ipv6.src", i), fr.field("ipv6.dst", i), proto,
            bool(frag), j)


def ports_at(fr, j, proto):
    """Ports of the TCP/UDP layer at protos[j] that proto names."""
    name = {6: "tcp", 17: "udp"}.get(proto)
    if name is None:
        return None
    if j >= len(fr.protos) or fr.protos[j] != name:
        raise Cut(f"no {name} layer after IP")
    return fr.num(name + ".srcport", j), fr.num(name + ".dstport", j)


def expected_key(fr):
    """The key steer must give: (family, proto, src, dst, sport, dport,
    flags), or "notip"."""
    ips = [i for i, p in enumerate(fr.protos) if p in ("ip", "ipv6")]
    # An IP layer right after ICMP is a quote, not a tunnel; every layer
    # after it belongs to the quote.
    quote = next((i for i in ips if fr.protos[i - 1] in ("icmp", "icmpv6")),
                 None)
    outer = [i for i in ips if quote is None or i < quote]
    if not outer:
        return "notip"
    if len(outer) - 1 > MAX_ENCAP:
        return "encap_depth"
    fam, src, dst, proto, frag, j = ip_layer(fr, outer[-1])
    if frag:
        return (fam, proto, src, dst, 0, 0, "F")
    if proto in (6, 17):
        sp, dp = ports_at(fr, j, proto)
        return (fam, proto, src, dst, sp, dp, "L")
    err = False
    if proto == 1 and fam == 4:
        err = fr.num("icmp.type", j) in ICMP4_ERRORS
    elif proto == 58 and fam == 6:
        err = fr.num("icmpv6.type", j) < 128
    if not err:
        return (fam, proto, src, dst, 0, 0, "")
    if quote is None:
        raise Cut("ICMP error without a quoted packet")
    _, qsrc, qdst, qproto, qfrag, k = ip_layer(fr, quote)
    sp = dp = 0
    if not qfrag and qproto in (6, 17):
        sp, dp = ports_at(fr, k, qproto)
    # The ICMP packet itself is whole: a quoted fragment zeroes the ports
    # but sets no F.
    return (fam, qproto, qdst, qsrc, dp, sp, "I")


def steer_key(line):
    """flowkeys line -> (frame, status, key tuple or None)."""
    f = line.split()
    if f[1] != "ok":
        return int(f[0]), f[1], None
    flags = "".join(c for c in f[8] if c in "FIL")
    return int(f[0]), "ok", (int(f[2]), int(f[3]), f[4], f[5], int(f[6]),
                             int(f[7]), flags)


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {res.returncode}: "
                 f"{res.stderr.strip()[:500]}")
    return res.stdout


def tshark_frames(path, lua, katran):
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t"]
    for p in DISABLED:
        cmd += ["--disable-protocol", p]
    if katran:
        cmd += ["-d", f"udp.port=={KATRAN_PORT},ip"]
    else:
        cmd += ["-X", "lua_script:" + lua, "-o", f"gue.port:{GUE_PORT}"]
    for f in FIELDS:
        cmd += ["-e", f]
    frames = {}
    for line in run(cmd).splitlines():
        vals = line.split("\t", len(FIELDS) - 1)
        vals += [""] * (len(FIELDS) - len(vals))
        fr = Frame(dict(zip(FIELDS, vals)))
        frames[fr.no] = fr
    return frames


def compare_file(path, rel, tools, lua):
    katran = rel.startswith("katran/")
    port = KATRAN_PORT if katran else GUE_PORT
    steer = {}
    for line in run([os.path.join(tools, "flowkeys"), "--gue-port",
                     str(port), "--max-encap", str(MAX_ENCAP),
                     path]).splitlines():
        no, status, key = steer_key(line)
        steer[no] = (status, key)
    frames = tshark_frames(path, lua, katran)
    stats = {"frames": len(frames), "ip": 0, "keys": 0, "errors": 0,
             "notip": 0, "allowed": 0}
    bad = []
    if sorted(steer) != sorted(frames):
        bad.append(f"{rel}: frame numbers differ: steer {len(steer)}, "
                   f"tshark {len(frames)}")
        return stats, bad
    for no, fr in sorted(frames.items()):
        status, got = steer[no]
        try:
            want = expected_key(fr)
        except Cut as e:
            want = "cut: " + str(e)
        if want != "notip":
            stats["ip"] += 1
        why = None
        if status == "ok" and got == want:
            stats["keys"] += 1
            continue
        if status == "notip" and want == "notip":
            stats["notip"] += 1
            continue
        if status not in ("ok", "notip"):
            if fr.flagged or want == status or (
                    isinstance(want, str) and want.startswith("cut")):
                stats["errors"] += 1
                if VERBOSE:
                    print(f"  {rel} frame {no}: steer {status}, tshark "
                          f"{want} [{fr.row['frame.protocols']}] "
                          f"{fr.row['_ws.expert.message'][:100]}")
                continue
            why = "steer rejects a frame tshark finds sound"
        if (rel, no) in ALLOWED:
            stats["allowed"] += 1
            continue
        bad.append(f"{rel} frame {no}: steer {status} {got}, tshark "
                   f"{want} [{fr.row['frame.protocols']}] "
                   f"{why or ''} {fr.row['_ws.expert.message'][:120]}")
    return stats, bad


def main():
    pcaps = os.environ.get("STEER_PCAPS")
    tools = os.environ.get("STEER_TESTS")
    src = os.environ.get("STEER_SRC") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    lua = os.path.join(src, "tests", "lua", "gue.lua")
    if not shutil.which("tshark"):
        print("SKIP: tshark is not installed")
        return 77
    known = {line.split("\t")[2] for line in
             run(["tshark", "-G", "protocols"]).splitlines()}
    if set(DISABLED) - known:  # tshark ignores unknown names silently
        print(f"FAIL: tshark lacks {sorted(set(DISABLED) - known)}")
        return 1
    if not os.path.isfile(lua):
        print(f"FAIL: no GUE dissector at {lua}")
        return 1
    if not pcaps or not os.path.isdir(pcaps):
        print("SKIP: STEER_PCAPS is not a directory")
        return 77
    if not tools or not os.access(os.path.join(tools, "flowkeys"), os.X_OK):
        print(f"FAIL: no flowkeys program in STEER_TESTS={tools}")
        return 1
    files = sorted(os.path.relpath(os.path.join(d, f), pcaps)
                   for d, _, fs in os.walk(pcaps) for f in fs
                   if f.endswith((".pcap", ".pcapng")))
    total, failures, mismatches = 0, [], []
    print(f"{'file':58} {'frames':>6} {'ip':>6} {'keys':>6} {'errs':>5} "
          f"{'notip':>5} {'allow':>5}")
    for rel in files:
        stats, bad = compare_file(os.path.join(pcaps, rel), rel, tools, lua)
        print(f"{rel:58} {stats['frames']:6} {stats['ip']:6} "
              f"{stats['keys']:6} {stats['errors']:5} {stats['notip']:5} "
              f"{stats['allowed']:5}")
        total += stats["keys"]
        mismatches += bad
        if stats["ip"] and not stats["keys"]:
            failures.append(f"{rel}: {stats['ip']} IP frames, none compared")
    print(f"files {len(files)}, keys compared {total}, "
          f"mismatches {len(mismatches)}")
    if len(files) == 0 or total < 60000:
        failures.append(f"only {total} keys compared over {len(files)} files")
    for m in mismatches[:40]:
        print("MISMATCH", m)
    for f in failures:
        print("FAIL", f)
    return 1 if mismatches or failures else 0


if __name__ == "__main__":
    sys.exit(main())
