// SPDX-License-Identifier: GPL-2.0-only
#include "fastpath/pcapio.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define MOD "pcap"

struct pcap_in {
	pcap_t *p;
	char *path;
	uint64_t count;
	int err; /* sticky negative errno once the file failed */
};

struct pcap_out {
	pcap_t *dead;
	pcap_dumper_t *d;
	char *path;
	int err; /* first negative errno seen while writing */
};

/*
 * The FILE is opened here rather than by pcap_open_offline() so that a
 * missing or unreadable file reports the exact errno of fopen(3); libpcap
 * then reads pcap or pcapng from it all the same.
 */
struct pcap_in *pcapio_open_read(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_in *in;
	int lt, e;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		e = errno;
		log_err(MOD, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (!in || !(in->path = strdup(path))) {
		e = ENOMEM;
		log_err(MOD, "%s: %s", path, strerror(e));
		goto err_free;
	}
	in->p = pcap_fopen_offline_with_tstamp_precision(
		f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!in->p) {
		/* libpcap leaves the FILE to us when it refuses it. */
		e = EINVAL;
		log_err(MOD, "%s: not a pcap or pcapng capture: %s", path,
			errbuf);
		goto err_free;
	}
	lt = pcap_datalink(in->p);
	if (lt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(lt);

		log_err(MOD,
			"%s: link type %s (%d) is not supported, only "
			"Ethernet (EN10MB)",
			path, name ? name : "unknown", lt);
		pcap_close(in->p); /* closes f */
		free(in->path);
		free(in);
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	return in;

err_free:
	if (in)
		free(in->path);
	free(in);
	fclose(f);
	errno = e;
	return NULL;
}

int pcapio_next(struct pcap_in *in, const uint8_t **data, uint32_t *caplen,
		uint32_t *wirelen, uint64_t *ts_ns)
{
	struct pcap_pkthdr *h;
	const u_char *bytes;
	int rc;

	if (in->err)
		return in->err;
	rc = pcap_next_ex(in->p, &h, &bytes);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		log_err(MOD, "%s: frame %llu: %s", in->path,
			(unsigned long long)in->count + 1, pcap_geterr(in->p));
		in->err = -EIO;
		return in->err;
	}
	in->count++;
	*data = bytes;
	*caplen = h->caplen;
	/* Some writers leave len below caplen; the frame is at least what
	 * was captured. */
	*wirelen = h->len < h->caplen ? h->caplen : h->len;
	*ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
		 (uint64_t)h->ts.tv_usec;
	return 1;
}

uint64_t pcapio_read_count(const struct pcap_in *in)
{
	return in->count;
}

void pcapio_close_read(struct pcap_in *in)
{
	if (!in)
		return;
	pcap_close(in->p);
	free(in->path);
	free(in);
}

struct pcap_out *pcapio_open_write(const char *path)
{
	struct pcap_out *out;
	int e = ENOMEM;
	FILE *f = NULL;

	out = calloc(1, sizeof(*out));
	if (!out || !(out->path = strdup(path)))
		goto err;
	out->dead = pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, PCAPIO_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!out->dead)
		goto err;
	f = fopen(path, "wb");
	if (!f) {
		e = errno;
		goto err;
	}
	out->d = pcap_dump_fopen(out->dead, f);
	if (!out->d) {
		/* pcap_dump_fopen() closed f after failing on the header. */
		e = errno ? errno : EIO;
		goto err;
	}
	return out;

err:
	log_err(MOD, "%s: %s", path, strerror(e));
	if (out) {
		if (out->dead)
			pcap_close(out->dead);
		free(out->path);
	}
	free(out);
	errno = e;
	return NULL;
}

/* Records the first stream failure; errno is the one fwrite(3) left. */
static int pcapio_out_check(struct pcap_out *out)
{
	FILE *f = pcap_dump_file(out->d);

	if (!out->err && ferror(f)) {
		out->err = errno ? -errno : -EIO;
		log_err(MOD, "%s: %s", out->path, strerror(-out->err));
	}
	return out->err;
}

int pcapio_write(struct pcap_out *out, const uint8_t *data, uint32_t len,
		 uint64_t ts_ns)
{
	struct pcap_pkthdr h;

	if (len == 0 || len > PCAPIO_SNAPLEN)
		return -EMSGSIZE;
	if (out->err)
		return out->err;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000ull);
	/* A nanosecond-precision handle stores nanoseconds in tv_usec. */
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000ull);
	h.caplen = len;
	h.len = len;
	errno = 0;
	pcap_dump((u_char *)out->d, &h, data);
	return pcapio_out_check(out);
}

/*
 * The flush is where buffered write errors (ENOSPC, EIO) show. The final
 * close(2) of the descriptor happens inside libpcap and cannot report.
 */
int pcapio_close_write(struct pcap_out *out)
{
	int rc;

	if (!out)
		return 0;
	errno = 0;
	if (pcap_dump_flush(out->d) != 0 && !out->err) {
		out->err = errno ? -errno : -EIO;
		log_err(MOD, "%s: %s", out->path, strerror(-out->err));
	}
	pcapio_out_check(out);
	rc = out->err;
	pcap_dump_close(out->d);
	pcap_close(out->dead);
	free(out->path);
	free(out);
	return rc;
}
