/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture file I/O over libpcap: read pcap and pcapng files of Ethernet
 * frames, write classic pcap files of Ethernet frames.
 *
 * Timestamps are nanoseconds since the Unix epoch on both sides. Files are
 * read with nanosecond precision (libpcap scales microsecond files) and
 * written as nanosecond pcap (magic a1b23c4d, snaplen 262144), which
 * tshark, tcpdump and libpcap >= 1.5 read without options.
 *
 * Every failure is logged once as "path: reason" under the "pcap" tag.
 */
#ifndef STEER_PCAPIO_H
#define STEER_PCAPIO_H

#include <stdint.h>

#define PCAPIO_SNAPLEN 262144

struct pcap_in;
struct pcap_out;

/*
 * Open a pcap or pcapng file for reading. Only Ethernet (DLT_EN10MB)
 * captures are accepted. Returns NULL and sets errno on failure:
 * the open(2) errno (ENOENT, EACCES, ...) when the file cannot be opened,
 * EINVAL when it is not a capture file libpcap understands,
 * EPROTONOSUPPORT when its link type is not Ethernet, ENOMEM.
 */
struct pcap_in *pcapio_open_read(const char *path);

/*
 * Read the next frame. On 1, *data points to *caplen bytes owned by the
 * reader and valid until the next call or pcapio_close_read(); *wirelen is
 * the frame's length on the wire (> *caplen when the capture truncated it)
 * and *ts_ns its timestamp. Returns 0 at the end of the file and -EIO when
 * the file is damaged (a truncated record, an impossible length); once an
 * error was returned, every later call returns it again without logging.
 */
int pcapio_next(struct pcap_in *in, const uint8_t **data, uint32_t *caplen,
		uint32_t *wirelen, uint64_t *ts_ns);

/* Frames returned by pcapio_next() so far. */
uint64_t pcapio_read_count(const struct pcap_in *in);

/* Close a reader; NULL is a no-op. */
void pcapio_close_read(struct pcap_in *in);

/*
 * Create (or truncate) path as a nanosecond pcap file of Ethernet frames.
 * Returns NULL and sets errno on failure (the open(2) errno, or ENOMEM).
 */
struct pcap_out *pcapio_open_write(const char *path);

/*
 * Append one frame of len bytes stamped ts_ns. Returns 0, -EMSGSIZE when
 * len is 0 or above PCAPIO_SNAPLEN (nothing is written), or the negative
 * errno of the stream's first failure (-ENOSPC, -EIO, ...; sticky). Writes
 * are buffered: a full disk may only show at pcapio_close_write().
 */
int pcapio_write(struct pcap_out *out, const uint8_t *data, uint32_t len,
		 uint64_t ts_ns);

/*
 * Flush and close a writer; NULL is a no-op returning 0. Returns 0 when
 * every byte reached the file, or the negative errno of the first failure
 * (-ENOSPC, -EIO, ...); the writer is freed in both cases.
 */
int pcapio_close_write(struct pcap_out *out);

#endif /* STEER_PCAPIO_H */
