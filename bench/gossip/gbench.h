/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steer-gossip-bench: one scenario, several systems under test.
 *
 * A system (steer's nodes in this process, steer's nodes as one process
 * each, serf agents) starts nodes, announces, crashes a node, counts the
 * bytes its nodes send, and reports what each node learns as events
 * stamped on CLOCK_MONOTONIC (gb_record). The scenario (gossip_bench.c)
 * drives every system through the same steps and turns the stamps into
 * figures, so the systems are timed by one method in one run.
 */
#ifndef STEER_GBENCH_H
#define STEER_GBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GB_MAXN 48
/* Announce trials are numbered 1..GB_ANN_MAX; updates of the bytes
 * window use seq GB_SEQ_UPDATES and above (not recorded). */
#define GB_ANN_MAX 8
#define GB_SEQ_UPDATES 1000
/* IPv4 + UDP headers: what a counter at the IP layer adds to a payload. */
#define GB_IP_UDP_HDR 28

enum gb_ev {
	GB_EV_JOIN0, /* obs starts joining (subj unused) */
	GB_EV_JOIN,  /* obs knows subj alive */
	GB_EV_ANN,   /* obs knows announce number subj */
	GB_EV_DEAD,  /* obs holds subj dead (failed) */
};

/* Bytes and datagrams (or packets) sent so far by the nodes up. */
struct gb_bytes {
	uint64_t bytes;
	uint64_t pkts;
};

struct gb_run;

struct gb_sys {
	const char *name; /* figure prefix */
	/* Start node i (0: the seed; others join node 0). 0 or -errno. */
	int (*start)(struct gb_run *r, uint32_t i);
	/* Node origin announces trial seq (or an update, seq >=
	 * GB_SEQ_UPDATES). 0 or -errno. */
	int (*announce)(struct gb_run *r, uint32_t origin, uint32_t seq);
	/* kill -9, or what comes closest. 0 or -errno. */
	int (*crash)(struct gb_run *r, uint32_t i);
	/* Run and record events for at most timeout_ms. */
	void (*pump)(struct gb_run *r, int timeout_ms);
	/* Counters of the nodes up; -ENOTSUP when this system cannot. */
	int (*bytes)(struct gb_run *r, struct gb_bytes *out);
	/* Everything down, all resources freed. */
	void (*stop)(struct gb_run *r);
	/* Optional: the nodes' own counters, summed, as one line of text. */
	void (*notes)(struct gb_run *r, char *buf, size_t len);
};

/* What each node learned, when: 0 for not (yet). [observer][subject]. */
struct gb_run {
	const struct gb_sys *sys;
	void *priv;
	uint32_t n;
	bool started[GB_MAXN];
	bool up[GB_MAXN];
	int64_t t_start[GB_MAXN]; /* when start() was called */
	int64_t t_join0[GB_MAXN];
	int64_t t_join[GB_MAXN][GB_MAXN];
	int64_t t_ann[GB_MAXN][GB_ANN_MAX + 1];
	int64_t t_dead[GB_MAXN][GB_MAXN];
	/* The same, as serf's event handlers saw it (serf only). */
	bool has_handlers;
	int64_t h_join[GB_MAXN][GB_MAXN];
	int64_t h_ann[GB_MAXN][GB_ANN_MAX + 1];
	int64_t h_dead[GB_MAXN][GB_MAXN];
};

struct flow_key;

int64_t gb_now_ns(void);
/* The session key of announce number i, and back. */
void gb_key(struct flow_key *k, uint32_t i);
uint32_t gb_key_seq(const struct flow_key *k);
/* Record the first time of an event; out-of-range indexes are ignored. */
void gb_record(struct gb_run *r, enum gb_ev ev, uint32_t obs, uint32_t subj,
	       int64_t t_ns);
void gb_record_handler(struct gb_run *r, enum gb_ev ev, uint32_t obs,
		       uint32_t subj, int64_t t_ns);

/*
 * Bytes and packets of a named nftables counter of table `inet <table>`
 * (run through `nft`). Returns 0, or -ENOENT when nft, the table or the
 * counter is missing.
 */
int gb_nft_counter(const char *table, const char *counter,
		   struct gb_bytes *out);

extern const struct gb_sys gb_sys_steer;
extern const struct gb_sys gb_sys_steer_procs;
extern const struct gb_sys gb_sys_serf;

/* Where steer's nodes bind: 127.0.3.(i + 1), an ephemeral port. */
#define GB_STEER_NET "127.0.3."
/* Where serf's agents bind: 127.0.2.(i + 1):7946, RPC on :7373. */
#define GB_SERF_NET "127.0.2."

struct gb_serf_opts {
	const char *serf;      /* the serf binary */
	const char *nft_table; /* NULL: no byte counts */
	bool keep;	       /* keep the work directory (logs) */
	uint32_t ann_trials;   /* handlers for user events ann1..annN */
};
extern struct gb_serf_opts gb_serf_opts;

#endif /* STEER_GBENCH_H */
