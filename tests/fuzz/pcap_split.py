# SPDX-License-Identifier: GPL-2.0-only
"""Split classic pcap files under a folder into one file per frame, as a
fuzzing seed corpus: pcap_split.py PCAP_DIR OUT_DIR MAX_FRAMES_PER_FILE"""
import os
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            return  # pcapng: skipped, the classic files cover the cases
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, caplen, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield data


def main():
    src, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    n = 0
    for root, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith(".pcap"):
                continue
            for i, data in enumerate(frames(os.path.join(root, name))):
                if i >= limit:
                    break
                with open(os.path.join(out, "%s.%d" % (name, i)), "wb") as f:
                    f.write(data)
                n += 1
    print("pcap_split: %d seed frames from %s" % (n, src))


if __name__ == "__main__":
    main()
