#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check with tshark what steer-replay puts on the wire.

Each capture (pathspider_real, ndpi_gnutella, encap/*, katran/*) is
replayed through each cluster of tests/fixtures/replay/. For every packet
steer writes, tshark must see the outer headers the cluster asks for:
eth:(ip|ipv6):udp:gue (variant 0, tests/lua/gue.lua) to another node on
the gue-port, with steer's private data (magic, version, flag steered, one
hop, origin = self); eth:(ip|ipv6):udp:IP (variant 1) or eth:(ip|ipv6):IP
(IPIP) to a backend of a service whose VIP the packet carries; self's MAC
and address as source, the target's next-hop MAC and address as
destination; a good IPv4 checksum, a zero UDP checksum, lengths that add
up. Inside, tshark must see the input packet of the same timestamp (in
order), field by field, and its bytes must be the input frame's IP packet
(L2 and VLAN tags off, cut at the IP length), or the packet inside it for
a tunnel to self. Frames kept local are input frames; out + local +
steer's drops = input; counts per target match steer's summary; every
node and backend gets traffic. A self-check then flips one bit in copies
of an output (outer header, inner header, payload, GUE data) or leaves a
frame out, and each copy must fail.
Usage: test_tshark_output.py [-v]   (-v: print every mismatch)
Exit 0: all agree; 1: a mismatch; 77: tshark or the captures missing.
"""
import ipaddress
from itertools import dropwhile
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("STEER_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
PCAPS = os.environ.get("STEER_PCAPS", "")
REPLAY = os.path.join(os.environ.get("STEER_BIN", ""), "steer-replay")
FIXTURES = [os.path.join(SRC, "tests", "fixtures", "replay", f)
            for f in ("oracle-v4.conf", "oracle-v6.conf")]
MUST_OUTPUT = {"pathspider_real.pcap", "ndpi_gnutella.pcap"}
GUE1_PORT = 9886  # port of the fixtures' GUE backends

# Reassembly and analyses that depend on the other packets of a file are
# off, so that a packet dissects alike in the input and in the output.
TSHARK = ("tshark -n -d udp.port==%d,ip -o ip.check_checksum:TRUE "
          "-o ip.defragment:FALSE -o ipv6.defragment:FALSE "
          "-o tcp.desegment_tcp_streams:FALSE -o tcp.analyze_sequence_numbers:"
          "FALSE --disable-protocol f5ethtrailer -T fields -E occurrence=a "
          "-E aggregator=," % GUE1_PORT).split() + [
              "-X", "lua_script:" + os.path.join(SRC, "tests/lua/gue.lua")]
FIELDS = ("frame.len frame.protocols ip.version eth.src eth.dst ip.src "
          "ip.dst ip.proto ip.id ip.len ip.ttl ip.flags ip.frag_offset "
          "ip.checksum ip.checksum.status ipv6.src ipv6.dst ipv6.plen "
          "ipv6.nxt ipv6.hlim ipv6.flow udp.srcport udp.dstport udp.length "
          "udp.checksum gue.version gue.control gue.hlen gue.proto "
          "tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.flags tcp.len "
          "icmp.type icmp.code icmpv6.type icmpv6.code").split()
# Layers of frame.protocols compared; application layers are left out (a
# heuristic dissector may judge them differently in a smaller file).
NET = {"eth", "vlan", "ieee8021ad", "ip", "ipv6", "udp", "tcp", "icmp",
       "icmpv6", "gue", "gre", "geneve", "vxlan", "mpls", "teredo"}
L2 = {"eth", "vlan", "ieee8021ad"}
PRIV = bytes([0x53, 1, 0x01, 1])  # magic, version, flag steered, hops


def addr(text):
    return ipaddress.ip_address(text).compressed


def load_cluster(path):
    """A cluster file (core/cluster.h); targets: (kind, address) -> ep."""
    c = {"gue-port": "6080", "all": {}, "targets": {}}
    with open(path) as f:
        for w in (line.split("#")[0].split() for line in f):
            if len(w) == 2:
                c[w[0]] = w[1]
            elif w:
                c["all"][w[1]] = dict(zip(w[2::2], w[3::2]), what=w[0],
                                      name=w[1])
    me = c["self"] = c["all"][c["self"]]
    c["svc"] = [s for s in c["all"].values() if s["what"] == "service"]
    for s in c["svc"]:
        s.update(backends=s["backends"].split(","), vip=addr(s["vip"]))
    for ep in c["all"].values():
        fam = "addr" if "addr" in me and "addr" in ep else "addr6"
        if ep["what"] in ("node", "backend") and ep is not me and fam in ep:
            ep.update(kind={"gue": "gue1", "ipip": "ipip"}.get(
                ep.get("encap"), "gue0"), port=ep.get("port", c["gue-port"]),
                hop_mac=c["all"][ep.get("via", ep["name"])].get("mac"))
            c["targets"][(ep["kind"], addr(ep[fam]))] = ep
    return c


def read_pcap(path):
    """Frames of a classic Ethernet pcap file: [(time in ns, bytes)]."""
    with open(path, "rb") as f:
        data = f.read()
    for end in "<>":
        magic, link = struct.unpack(end + "I16xI", data[:24])
        if magic in (0xa1b2c3d4, 0xa1b23c4d) and link == 1:
            break
    else:
        raise RuntimeError("%s: not a classic Ethernet pcap file" % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, n, _ = struct.unpack_from(end + "IIII", data, off)
        ns = sec * 10**9 + frac * (1000 if magic == 0xa1b2c3d4 else 1)
        frames.append((ns, data[off + 16:off + 16 + n]))
        off += 16 + n
    return frames


def be16(b, off):
    return struct.unpack_from(">H", b, off)[0]


def l3_start(frame):
    """Offset and family ("ip", "ipv6", None) of the IP header after L2."""
    et, off = be16(frame, 12) if len(frame) >= 14 else 0, 14
    while et in (0x8100, 0x88a8) and off + 4 <= len(frame):
        et, off = be16(frame, off + 2), off + 4
    return off, {0x0800: "ip", 0x86dd: "ipv6"}.get(et)


def ip_packet(b, off):
    """The IP packet at off, cut at its own length."""
    n = be16(b, off + 2) if b[off] >> 4 == 4 else 40 + be16(b, off + 4)
    return b[off:off + n]


def tunnel(b, off, port=None):
    """Kind ("ipip", "gue0", "gue1") and inner offset of the tunnel with IP
    header at off (GUE on port, any if None); (None, off) if none."""
    v4 = b[off] >> 4 == 4
    l4, proto = off + ((b[off] & 15) * 4 if v4 else 40), b[off + (9 if v4
                                                               else 6)]
    if proto in (4, 41):
        return "ipip", l4
    g = b[l4 + 8] if proto == 17 and port in (None, be16(b, l4 + 2)) else 255
    if g >> 6 == 1:
        return "gue1", l4 + 8
    return ("gue0", l4 + 12 + 4 * (g & 31)) if g >> 5 == 0 else (None, off)


def expected_inner(frame, c):
    """(IP packet steer acts on, layers it strips): the frame's, or the one
    in a tunnel to self that steer peels; (None, []) if not IP."""
    off, fam = l3_start(frame)
    if not fam:
        return None, []
    try:
        pkt, v4 = ip_packet(frame, off), fam == "ip"
        dst = ipaddress.ip_address(pkt[16:20] if v4 else pkt[24:40])
        mine = c["self"].get("addr" if v4 else "addr6")
        if (v4 and be16(pkt, 6) & 0x3fff) or not mine or \
                dst.compressed != addr(mine):
            return pkt, []
        kind, at = tunnel(pkt, 0, int(c["gue-port"]))
        return (ip_packet(pkt, at), [fam] + ["udp", "gue"] * (
            kind != "ipip")) if kind else (pkt, [])
    except (IndexError, struct.error, ValueError):  # cut short: a drop
        return frame[off:], []


def dissect(path):
    """Per frame: field -> values; frame.protocols -> the NET layers."""
    cmd = TSHARK + ["-r", path] + [a for f in FIELDS for a in ("-e", f)]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if res.returncode:
        raise RuntimeError("tshark failed on %s: %s" % (path, res.stderr))
    rows = []
    for line in res.stdout.splitlines():
        row = {f: v.split(",") if v else []
               for f, v in zip(FIELDS, line.split("\t"))}
        vers, lay = row["ip.version"], []  # one per ip or ipv6 layer
        for p in row["frame.protocols"][0].split(":"):
            if p == "ip" and vers[:1] == ["6"]:
                continue  # Decode-As "ip" shows IPv6 as an empty "ip" too
            vers = vers[p in ("ip", "ipv6"):]
            lay += [p] if p in NET or p.startswith("ipv6.") else []
        row["frame.protocols"] = lay
        rows.append(row)
    return rows


def match(inp, frames, same):
    """Index in inp of each frame (or None): the next input frame with its
    stamp, in a run of equal stamps the first one same(index, frame) likes."""
    out, p = [], 0
    for ts, b in frames:
        run = []
        for q in range(p, len(inp)):
            if inp[q][0] == ts:
                run.append(q)
            elif run:
                break
        out.append(next((q for q in run if same(q, b)), (run or [None])[0]))
        p = out[-1] + 1 if out[-1] is not None else p
    return out


def check_outer(row, frame, inner_fam, c):
    """Errors in an output frame's outer headers; its target, outer layers."""
    lay, one = row["frame.protocols"], lambda f: (row.get(f) or [""])[0]
    n = 2 if lay[2:3] != ["udp"] else 3 + (lay[3:4] == ["gue"])
    kind = "ipip" if n == 2 else "gue0" if n == 4 and one(
        "gue.version") == "0" else "gue1"
    fam = lay[1] if lay[1:2] in (["ip"], ["ipv6"]) else None
    ep = fam and c["targets"].get((kind, addr(one(fam + ".dst"))))
    if not ep:
        return ["%s to %s: no such target" % (":".join(lay), fam and one(
            fam + ".dst"))], None, None
    me, flen, hl = c["self"], int(one("frame.len")), 20 if fam == "ip" else 40
    want = {"inner layer": [inner_fam], "eth": [me["mac"], ep["hop_mac"]],
            fam + ".src": addr(me["addr" if fam == "ip" else "addr6"])}
    got = {"inner layer": lay[n:n + 1], fam + ".src": addr(one(fam + ".src")),
           "eth": [one("eth.src"), one("eth.dst")]}
    if fam == "ip":
        want.update({"ip.len": str(flen - 14), "ip.checksum.status": "1"})
    else:
        want["ipv6.plen"] = str(flen - 54)
    if kind != "ipip":
        want.update({"udp.length": str(flen - 14 - hl), "udp.dstport":
                     ep["port"], "udp.checksum": "0x0000", "sport": True})
        got["sport"] = int(one("udp.srcport")) >= 0xc000  # flow entropy
    if kind == "gue0":
        want.update({"gue.version": "0", "gue.control": "0", "gue.hlen": "3",
                     "gue.proto": "4" if inner_fam == "ip" else "41"})
        want["steer data"] = (PRIV + struct.pack(">H", int(me["id"]))).hex()
        got["steer data"] = frame[26 + hl:32 + hl].hex()  # after the GUE hdr
    else:
        vips = {s["vip"] for s in c["svc"] if ep["name"] in s["backends"]}
        seen = {addr(a) for f in ("ip.src", "ip.dst", "ipv6.src", "ipv6.dst")
                for a in row[f][1 if f.startswith(fam + ".") else 0:]}
        key = "carries a VIP served by " + ep["name"]
        want[key], got[key] = True, bool(vips & seen)
    return ["%s %s, expected %s" % (f, got.get(f, one(f)), v)
            for f, v in want.items() if got.get(f, one(f)) != v], ep, lay[:n]


def check_inner(orow, outer, irow, stripped):
    """Fields tshark shows inside an output frame that differ from its input
    frame's; the outer layers and those steer strips are left out."""
    lout = orow["frame.protocols"][len(outer):]
    lin = list(dropwhile(L2.__contains__, irow["frame.protocols"]))
    if lout != lin[len(stripped):]:
        return ["inner layers %s, input %s" % (":".join(lout), ":".join(lin))]
    err = []
    for f in FIELDS[3:]:
        proto = f.split(".")[0]
        got = orow[f][outer.count(proto):]
        want = irow[f][stripped.count(proto) + (proto == "eth"):]
        if got != want:
            err.append("%s %s, input %s" % (f, ",".join(got), ",".join(want)))
    return err


def local_ok(frame, exp, got):
    """Is got what steer keeps of frame: the frame, or for a tunnel to self
    (expected_inner() gave exp) the frame's MACs and the inner packet?"""
    off, fam = l3_start(got)
    return got == frame or bool(exp[1] and got[:12] == frame[:12] and fam
                                and ip_packet(got, off) == exp[0])


def summary(text):
    """steer-replay's counts: line title -> (total, {target: n})."""
    return {key: (int(n), {k: int(v) for k, v in re.findall(
        r"(\S+) (\d+)", rest)}) for key, n, rest in re.findall(
            r"^  (\D+?) +(\d+)(?: \([\d.]+%\))?(.*)$", text, re.M)}


def compare(c, inp, irows, out_path, local, summ):
    """Mismatches of one replay's output; output frames per target."""
    outf, orows = read_pcap(out_path), dissect(out_path)
    if len(orows) != len(outf):
        return ["tshark saw %d frames of %d" % (len(orows), len(outf))], {}
    exp = [expected_inner(b, c) for _, b in inp]
    oidx = match(inp, outf, lambda i, b: exp[i][0] == b[tunnel(b, 14)[1]:])
    lidx = match(inp, local, lambda i, b: local_ok(inp[i][1], exp[i], b))
    err, per = [], {}
    for n, ((_, b), i, row) in enumerate(zip(outf, oidx, orows), 1):
        if i is None:
            err.append("out %d: no input frame at its time" % n)
            continue
        pkt, stripped = exp[i]
        fam = ("ip", "ipv6")[pkt[0] >> 4 == 6] if pkt else "not IP"
        e, ep, outer = check_outer(row, b, fam, c)
        if ep:
            per[ep["name"]] = per.get(ep["name"], 0) + 1
            e += check_inner(row, outer, irows[i], stripped)
        if b[tunnel(b, 14)[1]:] != pkt:
            e.append("carried bytes differ from the input's IP packet")
        err += ["out %d (input %d): %s" % (n, i + 1, x) for x in e]
    for n, ((_, b), i) in enumerate(zip(local, lidx), 1):
        if i is None or not local_ok(inp[i][1], exp[i], b):
            err.append("local %d: not an input frame" % n)
    used = [i for i in oidx + lidx if i is not None]
    if len(set(used)) != len(used):
        err.append("an input frame is written twice")
    if len(outf) + len(local) + summ["dropped"][0] != len(inp):
        err.append("out %d + local %d + dropped %d != input %d" % (
            len(outf), len(local), summ["dropped"][0], len(inp)))
    said = dict(summ["steered to other nodes"][1], **summ["to backends"][1])
    if {k: v for k, v in said.items() if v} != per:
        err.append("per target: steer says %s, tshark %s" % (said, per))
    return err, per


def self_check(c, inp, irows, out, local, summ):
    """Compare corrupt copies of out: one bit flipped in the first frame of
    each kind, or the first frame left out. Returns how many passed."""
    with open(out, "rb") as f:
        data = f.read()
    frames, copies, missed = read_pcap(out), [], 0
    start, first = [24], {}  # file offset of each pcap record
    for n, (_, b) in enumerate(frames):
        first.setdefault(tunnel(b, 14)[0], n)
        start.append(start[-1] + 16 + len(b))
    for kind, n in sorted(first.items()):
        b, at = frames[n][1], tunnel(frames[n][1], 14)[1]
        spots = {"outer IP header": 14 + (10 if b[14] >> 4 == 4 else 39),
                 "inner IP header": at + 8, "last byte": len(b) - 1}
        if kind == "gue0":
            spots["steer's GUE data"] = at - 7  # origin, low byte
        for what, k in spots.items():
            k += start[n] + 16
            copies.append(("%s frame %d, one bit of the %s flipped" % (
                kind, n + 1, what), data[:k] + bytes([data[k] ^ 1]) +
                data[k + 1:]))
    copies.append(("first frame left out", data[:24] + data[start[1]:]))
    for what, d in copies:
        with open(out + ".bad", "wb") as f:
            f.write(d)
        k = len(compare(c, inp, irows, out + ".bad", local, summ)[0])
        print("self-check: %s: %d mismatches" % (what, k))
        missed += k == 0
    return missed


def main():
    if not shutil.which("tshark") or not os.path.isdir(PCAPS):
        print("test skipped: needs tshark and STEER_PCAPS (%r)" % PCAPS)
        return 77
    caps = [os.path.join(PCAPS, f) for f in sorted(MUST_OUTPUT, reverse=True)]
    for sub in ("encap", "katran"):
        caps += sorted(os.path.join(PCAPS, sub, f) for f in os.listdir(
            os.path.join(PCAPS, sub)) if f.endswith(".pcap"))
    inputs = {p: (read_pcap(p), dissect(p)) for p in caps}
    failed, best = 0, None
    with tempfile.TemporaryDirectory() as tmp:
        for fx in FIXTURES:
            c, seen = load_cluster(fx), set()
            for p in caps:
                (inp, irows), name = inputs[p], os.path.relpath(p, PCAPS)
                work = tempfile.mkdtemp(dir=tmp)
                out, loc = work + "/out.pcap", work + "/local.pcap"
                res = subprocess.run(
                    [REPLAY, "--cluster", fx, "--in", p, "--out", out,
                     "--local", loc], stdout=subprocess.PIPE,
                    universal_newlines=True, check=True)
                local, summ = read_pcap(loc), summary(res.stdout)
                try:
                    err, per = compare(c, inp, irows, out, local, summ)
                except (IndexError, struct.error, ValueError) as e:
                    err, per = ["output not parsable: %r" % e], {}
                nout = sum(per.values())
                if not nout and os.path.basename(p) in MUST_OUTPUT:
                    err.append("no output packets")
                seen |= set(per)
                print("%s %s: in %d, out %d compared %s, local %d, dropped "
                      "%d%s" % (os.path.basename(fx), name, len(inp), nout,
                                per or "", len(local), summ["dropped"][0],
                                ", %d MISMATCHES" % len(err) if err else ""))
                for e in err if "-v" in sys.argv else err[:20]:
                    print("  " + e)
                failed += bool(err)
                kinds = len({c["all"][k]["kind"] for k in per})
                if not err and (not best or (-kinds, nout) < best[0]):
                    best = ((-kinds, nout), "%s %s" % (fx, name), c, inp,
                            irows, out, local, summ)
            missing = {ep["name"] for ep in c["targets"].values()} - seen
            if missing:
                print("%s: nothing reached %s" % (fx, sorted(missing)))
                failed += 1
        if best is None or not best[0][1]:
            print("self-check: no capture passed with output to corrupt")
            failed += 1
        else:
            print("self-check on the output of %s" % best[1])
            failed += self_check(*best[2:])
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
