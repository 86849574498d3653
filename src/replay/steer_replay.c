// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-replay: run a capture through the userspace fast path of one node
 * of a static cluster and write the packets as they would leave it.
 *
 *   steer-replay --cluster FILE --in IN.pcap --out OUT.pcap
 *                [--stats flows.csv] [--local LOCAL.pcap] [--secret HEX]
 *                [--quiet]
 *
 * Every packet of IN is offered to the node named by `self` in FILE, as if
 * ECMP had sent it there. Packets steered to another node or sent to a
 * backend go to OUT, encapsulated; packets this node keeps (its own flows,
 * non-IP frames) go to LOCAL when given. Time is the capture's own.
 * Exit status: 0, 1 on a runtime error, 2 on a usage or config error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <steer/hash.h>

#include "core/cluster.h"
#include "fastpath/fp_cluster.h"
#include "fastpath/pcapio.h"
#include "replay/flowstats.h"
#include "replay/summary.h"
#include "util/log.h"

#define HEADROOM (256 + STEER_FRAME_ALIGN_OFF)
#define FRAME_MAX 65535

struct replay_opts {
	const char *cluster, *in, *out, *stats, *local;
	const char *secret;
	int quiet;
};

static void usage(FILE *f)
{
	fputs("usage: steer-replay --cluster FILE --in IN.pcap --out OUT.pcap\n"
	      "                    [--stats flows.csv] [--local LOCAL.pcap]\n"
	      "                    [--secret 32-HEX-DIGITS] [--quiet]\n",
	      f);
}

static int parse_opts(int argc, char **argv, struct replay_opts *o)
{
	static const struct option lo[] = {
		{"cluster", required_argument, NULL, 'c'},
		{"in", required_argument, NULL, 'i'},
		{"out", required_argument, NULL, 'o'},
		{"stats", required_argument, NULL, 's'},
		{"local", required_argument, NULL, 'l'},
		{"secret", required_argument, NULL, 'k'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:i:o:s:l:k:qh", lo, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			o->cluster = optarg;
			break;
		case 'i':
			o->in = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 's':
			o->stats = optarg;
			break;
		case 'l':
			o->local = optarg;
			break;
		case 'k':
			o->secret = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->cluster || !o->in || !o->out) {
		fputs("steer-replay: --cluster, --in and --out are required\n",
		      stderr);
		return -EINVAL;
	}
	return 0;
}

/*
 * The flow-hash secret: 32 hex digits, or derived from the cluster name
 * so that replays of one cluster are repeatable (steerd draws it from the
 * cluster key instead).
 */
static int secret_get(const char *hex, const char *name,
		      struct steer_hash_secret *s)
{
	static const struct steer_hash_secret zero = {0, 0};
	__u64 w[4] = {0};
	char part[17];
	size_t n;

	if (!hex) {
		memcpy(w, name, strnlen(name, sizeof(w) - 1));
		s->k0 = steer_siphash13(w, 4, &zero);
		w[0] ^= s->k0;
		s->k1 = steer_siphash13(w, 4, &zero);
		return 0;
	}
	if (strlen(hex) != 32 || strspn(hex, "0123456789abcdefABCDEF") != 32)
		return -EINVAL;
	for (n = 0; n < 2; n++) {
		memcpy(part, hex + 16 * n, 16);
		part[16] = 0;
		w[n] = strtoull(part, NULL, 16);
	}
	s->k0 = w[0];
	s->k1 = w[1];
	return 0;
}

struct replay {
	struct fastpath *fp;
	struct pcap_in *in;
	struct pcap_out *out, *local;
	struct flowstats fs;
	struct replay_summary sum;
	uint8_t buf[HEADROOM + FRAME_MAX] __attribute__((aligned(64)));
};

static void replay_account(struct replay *r, const struct fp_result *res,
			   uint64_t ts_ns)
{
	struct flowstat *st;

	summary_count(&r->sum, res);
	if (!res->has_key)
		return;
	st = flowstats_get(&r->fs, &res->key);
	if (!st)
		return;
	if (!st->packets && !st->dropped)
		st->first_ns = ts_ns;
	st->last_ns = ts_ns;
	if (res->verdict == FP_DROP) {
		st->dropped++;
		return;
	}
	st->packets++;
	st->bytes += res->l3_len;
	st->action = res->action;
	st->owner = res->owner;
	st->rf = res->rf;
	memcpy(st->mirror, res->mirror, sizeof(st->mirror));
	if (res->verdict == FP_TX)
		st->target = res->target;
}

static int replay_run(struct replay *r)
{
	const uint8_t *data;
	uint32_t caplen, wirelen;
	uint64_t ts, t0 = 0;
	int rc, first = 1;

	while ((rc = pcapio_next(r->in, &data, &caplen, &wirelen, &ts)) > 0) {
		struct fp_pkt p = {.data = r->buf + HEADROOM,
				   .len = caplen,
				   .headroom = HEADROOM};
		struct fp_result res;

		if (first) {
			t0 = ts;
			first = 0;
		}
		if (caplen > FRAME_MAX)
			p.len = FRAME_MAX; /* the parser counts the cut */
		memcpy(p.data, data, p.len);
		fastpath_process(r->fp, &p, (uint32_t)((ts - t0) / 1000000),
				 &res);
		replay_account(r, &res, ts - t0);
		if (res.verdict == FP_TX)
			rc = pcapio_write(r->out, p.data, p.len, ts);
		else if (res.verdict == FP_PASS && r->local)
			rc = pcapio_write(r->local, p.data, p.len, ts);
		if (rc < 0)
			return rc;
		r->sum.duration_ns = ts - t0;
	}
	return rc;
}

static int replay_open(struct replay *r, const struct replay_opts *o)
{
	r->in = pcapio_open_read(o->in);
	if (!r->in)
		return -errno;
	r->out = pcapio_open_write(o->out);
	if (!r->out)
		return -errno;
	if (o->local) {
		r->local = pcapio_open_write(o->local);
		if (!r->local)
			return -errno;
	}
	return flowstats_init(&r->fs);
}

static int replay_close(struct replay *r, const struct replay_opts *o)
{
	int ret = 0, err;
	FILE *f;

	if (r->in)
		pcapio_close_read(r->in);
	if (r->out && (err = pcapio_close_write(r->out)) < 0)
		ret = err;
	if (r->local && (err = pcapio_close_write(r->local)) < 0)
		ret = err;
	if (o->stats && r->fs.slots && !ret) {
		f = fopen(o->stats, "w");
		if (!f) {
			log_err("replay", "%s: %s", o->stats, strerror(errno));
			ret = -errno;
		} else {
			ret = flowstats_write_csv(&r->fs, f);
			if (fclose(f) && !ret)
				ret = -errno;
		}
	}
	flowstats_free(&r->fs);
	fastpath_free(r->fp);
	return ret;
}

int main(int argc, char **argv)
{
	struct replay_opts o;
	struct steer_hash_secret sec;
	struct cluster c;
	struct replay *r;
	char err[512] = "";
	int ret;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	ret = cluster_load(&c, o.cluster, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "steer-replay: %s\n", err);
		return 2;
	}
	if (secret_get(o.secret, c.name, &sec)) {
		fprintf(stderr,
			"steer-replay: --secret expects 32 hex digits, "
			"got '%s'\n",
			o.secret);
		cluster_free(&c);
		return 2;
	}
	r = calloc(1, sizeof(*r));
	if (!r || summary_init(&r->sum)) {
		free(r);
		cluster_free(&c);
		return 1;
	}
	r->fp = fp_cluster_build(&c, &sec, err, sizeof(err));
	if (!r->fp) {
		fprintf(stderr, "steer-replay: %s: %s\n", o.cluster, err);
		ret = 2;
		goto out;
	}
	ret = replay_open(r, &o);
	if (!ret)
		ret = replay_run(r);
	if (ret < 0)
		log_err("replay", "%s", strerror(-ret));
	if (!ret && !o.quiet)
		summary_print(&r->sum, &c, r->fp, &r->fs, o.in, stdout);
	ret = replay_close(r, &o) || ret ? 1 : 0;
out:
	summary_free(&r->sum);
	free(r);
	cluster_free(&c);
	return ret;
}
