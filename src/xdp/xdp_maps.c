// SPDX-License-Identifier: GPL-2.0-only
#include "xdp/xdp_maps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath/fastpath.h"
#include "util/log.h"

#define MOD "xdp"

static int xdp_maps_fd(struct xdp_prog *x, const char *name)
{
	int fd = xdp_prog_map_fd(x, name);

	if (fd < 0)
		log_err(MOD, "map %s is missing", name);
	return fd;
}

static int xdp_maps_cfg_get(struct xdp_prog *x, struct steer_xdp_cfg *cfg)
{
	uint32_t zero = 0;
	int fd = xdp_maps_fd(x, "steer_cfg");

	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, &zero, cfg) ? -errno : 0;
}

int xdp_maps_cfg_set(struct xdp_prog *x, const struct steer_xdp_cfg *cfg)
{
	uint32_t zero = 0;
	int fd = xdp_maps_fd(x, "steer_cfg");

	if (fd < 0)
		return fd;
	if (cfg->max_encap > STEER_MAX_ENCAP || (cfg->mtu && cfg->mtu < 68)) {
		log_err(MOD, "bad config: max_encap %u, mtu %u", cfg->max_encap,
			cfg->mtu);
		return -EINVAL;
	}
	if (bpf_map_update_elem(fd, &zero, cfg, BPF_ANY)) {
		log_err(MOD, "cannot write steer_cfg: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int xdp_maps_tmpl_set(struct xdp_prog *x, uint16_t id,
		      const struct steer_tmpl *t)
{
	int fd = xdp_maps_fd(x, "steer_tmpls");
	uint32_t key = id;

	if (fd < 0)
		return fd;
	if (!t->len || steer_tmpl_len(t->kind, t->family) != t->len) {
		log_err(MOD,
			"template of node %u: length %u does not fit "
			"kind %u family %u",
			id, t->len, t->kind, t->family);
		return -EINVAL;
	}
	if (bpf_map_update_elem(fd, &key, t, BPF_ANY)) {
		int err = errno == E2BIG ? -ERANGE : -errno;

		log_err(MOD, "cannot write the template of node %u: %s", id,
			strerror(-err));
		return err;
	}
	return 0;
}

int xdp_maps_tmpl_del(struct xdp_prog *x, uint16_t id)
{
	struct steer_tmpl empty;
	int fd = xdp_maps_fd(x, "steer_tmpls");
	uint32_t key = id;

	if (fd < 0)
		return fd;
	memset(&empty, 0, sizeof(empty));
	return bpf_map_update_elem(fd, &key, &empty, BPF_ANY) ? -errno : 0;
}

/* The map of k's family, and k as that map keys it (in *k4 for IPv4). */
static int xdp_maps_flow_map(struct xdp_prog *x, const struct flow_key *k,
			     struct steer_flow4_key *k4, const void **key)
{
	if (!flow_key_is_v4(k)) {
		*key = k;
		return xdp_maps_fd(x, "steer_flows");
	}
	steer_flow4_key_of(k4, k);
	*key = k4;
	return xdp_maps_fd(x, "steer_flows4");
}

uint64_t xdp_maps_flow_capacity(struct xdp_prog *x)
{
	static const char *const names[] = {"steer_flows4", "steer_flows"};
	struct bpf_map_info info;
	uint32_t len, i;
	uint64_t n = 0;
	int fd;

	for (i = 0; i < 2; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		fd = xdp_maps_fd(x, names[i]);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			n += info.max_entries;
	}
	return n;
}

/* A flow rule not written: a full table (E2BIG) is a condition the
 * caller counts, logged at most a few times a second like any failure. */
static void xdp_maps_write_failed(int err)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 5);

	log_warn_rl(&rl, MOD, "cannot write a flow: %s",
		    err == -E2BIG ? "the flow table is full" : strerror(-err));
}

int xdp_maps_flow_set(struct xdp_prog *x, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch)
{
	struct steer_flow4_key k4;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key);
	struct steer_xdp_cfg cfg;
	struct steer_rule r;
	int err;

	if (fd < 0)
		return fd;
	if (owner == STEER_NODE_NONE)
		return -EINVAL;
	err = xdp_maps_cfg_get(x, &cfg);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	r.owner = owner;
	r.epoch = epoch;
	r.rf = 1;
	r.mirror[0] = r.mirror[1] = STEER_NODE_NONE;
	r.action = owner == cfg.self_id ? STEER_ACT_LOCAL : STEER_ACT_STEER;
	r.tmpl = owner;
	r.sport = flow_hash_sport(flow_hash(k, &cfg.secret));
	if (bpf_map_update_elem(fd, key, &r, BPF_ANY)) {
		err = -errno;
		xdp_maps_write_failed(err);
		return err;
	}
	return 0;
}

int xdp_maps_hint_set(struct xdp_prog *x, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch)
{
	struct steer_flow4_key k4;
	struct steer_xdp_cfg cfg;
	struct steer_rule r;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key), err;

	if (fd < 0)
		return fd;
	if (owner == STEER_NODE_NONE)
		return -EINVAL;
	/* A hint may replace a hint (a pinned one from before a restart),
	 * never a record's rule. */
	if (!bpf_map_lookup_elem(fd, key, &r) && r.action != STEER_ACT_HINT)
		return -EEXIST;
	err = xdp_maps_cfg_get(x, &cfg);
	if (err)
		return err;
	if (owner == cfg.self_id)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.owner = owner;
	r.epoch = epoch;
	r.rf = 1;
	r.mirror[0] = r.mirror[1] = STEER_NODE_NONE;
	r.action = STEER_ACT_HINT;
	r.tmpl = owner;
	r.sport = flow_hash_sport(flow_hash(k, &cfg.secret));
	return bpf_map_update_elem(fd, key, &r, BPF_ANY) ? -errno : 0;
}

int xdp_maps_hint_del(struct xdp_prog *x, const struct flow_key *k)
{
	struct steer_rule r;
	int err = xdp_maps_rule_get(x, k, &r);

	if (err)
		return err;
	if (r.action != STEER_ACT_HINT)
		return -EEXIST;
	return xdp_maps_flow_del(x, k);
}

int xdp_maps_rule_set(struct xdp_prog *x, const struct flow_key *k,
		      const struct steer_rule *r)
{
	struct steer_flow4_key k4;
	struct steer_xdp_cfg cfg;
	struct steer_rule w = *r;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key), err;

	if (fd < 0)
		return fd;
	if (r->action != STEER_ACT_LOCAL && r->action != STEER_ACT_STEER &&
	    r->action != STEER_ACT_BACKEND && r->action != STEER_ACT_DROP &&
	    r->action != STEER_ACT_HINT)
		return -EINVAL;
	err = xdp_maps_cfg_get(x, &cfg);
	if (err)
		return err;
	w.sport = flow_hash_sport(flow_hash(k, &cfg.secret));
	if (bpf_map_update_elem(fd, key, &w, BPF_ANY)) {
		err = -errno;
		xdp_maps_write_failed(err);
		return err;
	}
	return 0;
}

int xdp_maps_rule_get(struct xdp_prog *x, const struct flow_key *k,
		      struct steer_rule *r)
{
	struct steer_flow4_key k4;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key);

	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, key, r) ? -errno : 0;
}

int xdp_maps_rule_tele(struct xdp_prog *x, const struct flow_key *k,
		       uint32_t tele)
{
	struct steer_flow4_key k4;
	struct steer_rule r;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key);

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, key, &r))
		return -errno;
	if (r.tele == tele)
		return 0;
	r.tele = tele;
	/* BPF_EXIST: a rule deleted meanwhile stays deleted. */
	return bpf_map_update_elem(fd, key, &r, BPF_EXIST) ? -errno : 0;
}

int xdp_maps_shards_set(struct xdp_prog *x, const struct steer_shard *sh)
{
	int fd = xdp_maps_fd(x, "steer_shards");
	__u32 i;

	if (fd < 0)
		return fd;
	for (i = 0; i < STEER_SHARDS; i++)
		if (bpf_map_update_elem(fd, &i, &sh[i], BPF_ANY))
			return -errno;
	return 0;
}

int xdp_maps_ring_set(struct xdp_prog *x, uint32_t ring, const uint16_t *t,
		      uint32_t size)
{
	int fd = xdp_maps_fd(x, "steer_ring");
	__u64 *words;
	__u32 *keys, i, n = STEER_RING_WORDS, count = n;
	uint16_t b;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ring >= STEER_XDP_RING_SVCS || (t && size != STEER_RING_SIZE))
		return -EINVAL;
	words = calloc(n, sizeof(*words));
	keys = calloc(n, sizeof(*keys));
	if (!words || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		keys[i] = ring * STEER_RING_WORDS + i;
	for (i = 0; t && i < STEER_RING_SIZE; i++) {
		b = t[i];
		if (b != STEER_NODE_NONE)
			words[i / 4] |= (__u64)(b + 1) << (16 * (i % 4));
	}
	if (bpf_map_update_batch(fd, keys, words, &count, NULL))
		err = -errno;
out:
	free(words);
	free(keys);
	return err;
}

int xdp_maps_shard_get(struct xdp_prog *x, uint32_t shard,
		       struct steer_shard *out)
{
	int fd = xdp_maps_fd(x, "steer_shards");

	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, &shard, out) ? -errno : 0;
}

int xdp_maps_alive(struct xdp_prog *x)
{
	struct steer_xdp_cfg cfg;
	struct timespec ts;
	int err = xdp_maps_cfg_get(x, &cfg);

	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	cfg.alive_ns =
		(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return xdp_maps_cfg_set(x, &cfg);
}

int xdp_maps_flow_del(struct xdp_prog *x, const struct flow_key *k)
{
	struct steer_flow4_key k4;
	const void *key;
	int fd = xdp_maps_flow_map(x, k, &k4, &key);

	if (fd < 0)
		return fd;
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

static bool xdp_maps_svc_listed(const struct steer_svc_key *k,
				const struct steer_svc_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(k, &keys[i], sizeof(*k)))
			return true;
	return false;
}

int xdp_maps_svc_set(struct xdp_prog *x, const struct steer_svc_key *keys,
		     const __u32 *flags, size_t n)
{
	int fd = xdp_maps_fd(x, "steer_svcs");
	struct steer_svc_key k, next;
	__u32 v;
	size_t i;
	int have;

	if (fd < 0)
		return fd;
	for (i = 0; i < n; i++) {
		v = STEER_SVC_F_PRESENT | (flags ? flags[i] : 0);
		if (bpf_map_update_elem(fd, &keys[i], &v, BPF_ANY))
			return -errno;
	}
	have = !bpf_map_get_next_key(fd, NULL, &k);
	while (have) {
		have = !bpf_map_get_next_key(fd, &k, &next);
		if (!xdp_maps_svc_listed(&k, keys, n))
			bpf_map_delete_elem(fd, &k);
		k = next;
	}
	return 0;
}

/*
 * Walk map fd: keys of klen bytes, values of vlen. The next key is taken
 * before fn runs, so fn may delete the current one.
 */
static int xdp_maps_walk(int fd, size_t klen, size_t vlen,
			 int (*fn)(const void *k, const void *v, void *arg),
			 void *arg)
{
	uint8_t key[64], next[64], val[64];
	int have, ret = 0;

	if (fd < 0)
		return fd;
	if (klen > sizeof(key) || vlen > sizeof(val))
		return -EINVAL;
	have = !bpf_map_get_next_key(fd, NULL, key);
	while (have && !ret) {
		int more = !bpf_map_get_next_key(fd, key, next);

		if (!bpf_map_lookup_elem(fd, key, val))
			ret = fn(key, val, arg);
		memcpy(key, next, klen);
		have = more;
	}
	return ret;
}

struct xdp_maps_walk_arg {
	xdp_maps_flow_fn flow;
	xdp_maps_udp_fn udp;
	void *arg;
};

static int xdp_maps_flow_one(const void *k, const void *v, void *arg)
{
	struct xdp_maps_walk_arg *w = arg;

	return w->flow(k, v, w->arg);
}

/* An IPv4 entry handed on with the full flow key. */
static int xdp_maps_flow4_one(const void *k, const void *v, void *arg)
{
	const struct steer_flow4_key *k4 = k;
	struct xdp_maps_walk_arg *w = arg;
	struct flow_key fk;

	memset(&fk, 0, sizeof(fk));
	flow_addr_set_v4(&fk.src, k4->src);
	flow_addr_set_v4(&fk.dst, k4->dst);
	fk.sport = k4->sport;
	fk.dport = k4->dport;
	fk.proto = k4->proto;
	return w->flow(&fk, v, w->arg);
}

static int xdp_maps_udp_one(const void *k, const void *v, void *arg)
{
	struct xdp_maps_walk_arg *w = arg;

	return w->udp(k, v, w->arg);
}

int xdp_maps_flow_foreach(struct xdp_prog *x, xdp_maps_flow_fn fn, void *arg)
{
	struct xdp_maps_walk_arg w = {.flow = fn, .arg = arg};
	int ret;

	ret = xdp_maps_walk(xdp_maps_fd(x, "steer_flows4"),
			    sizeof(struct steer_flow4_key),
			    sizeof(struct steer_rule), xdp_maps_flow4_one, &w);
	if (ret)
		return ret;
	return xdp_maps_walk(xdp_maps_fd(x, "steer_flows"),
			     sizeof(struct flow_key), sizeof(struct steer_rule),
			     xdp_maps_flow_one, &w);
}

int xdp_maps_udp_foreach(struct xdp_prog *x, xdp_maps_udp_fn fn, void *arg)
{
	struct xdp_maps_walk_arg w = {.udp = fn, .arg = arg};

	return xdp_maps_walk(
		xdp_maps_fd(x, "steer_udp"), sizeof(struct flow_key),
		sizeof(struct steer_udp_seen), xdp_maps_udp_one, &w);
}

int xdp_maps_udp_add(struct xdp_prog *x, const struct flow_key *k)
{
	int fd = xdp_maps_fd(x, "steer_udp");
	struct steer_udp_seen v = {0};
	struct timespec ts;

	if (fd < 0)
		return fd;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	v.first_ns = v.last_ns =
		(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return bpf_map_update_elem(fd, k, &v, BPF_NOEXIST) ? -errno : 0;
}

int xdp_maps_udp_del(struct xdp_prog *x, const struct flow_key *k)
{
	int fd = xdp_maps_fd(x, "steer_udp");

	if (fd < 0)
		return fd;
	return bpf_map_delete_elem(fd, k) ? -errno : 0;
}

/* One steer_xdp_stats per possible CPU, as the kernel lays them out. */
static struct steer_xdp_stats *xdp_maps_stats_buf(int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0) {
		errno = -*ncpu;
		return NULL;
	}
	return calloc((size_t)*ncpu, sizeof(struct steer_xdp_stats));
}

int xdp_maps_stats_read(struct xdp_prog *x, struct steer_xdp_stats *sum)
{
	int fd = xdp_maps_fd(x, "steer_stats"), ncpu, c;
	struct steer_xdp_stats *per;
	uint32_t zero = 0;
	size_t i;

	if (fd < 0)
		return fd;
	per = xdp_maps_stats_buf(&ncpu);
	if (!per)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		int err = -errno;

		free(per);
		return err;
	}
	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++) {
		const __u64 *src = (const __u64 *)&per[c];
		__u64 *dst = (__u64 *)sum;

		for (i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			dst[i] += src[i];
	}
	free(per);
	return 0;
}

int xdp_maps_stats_reset(struct xdp_prog *x)
{
	int fd = xdp_maps_fd(x, "steer_stats"), ncpu, err = 0;
	struct steer_xdp_stats *per;
	uint32_t zero = 0;

	if (fd < 0)
		return fd;
	per = xdp_maps_stats_buf(&ncpu);
	if (!per)
		return -errno;
	if (bpf_map_update_elem(fd, &zero, per, BPF_ANY))
		err = -errno;
	free(per);
	return err;
}

/* Entries of the hash map fd, counted in batches. */
static int xdp_maps_count(int fd, size_t klen, size_t vlen, uint64_t *n)
{
	enum { B = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint8_t *keys = malloc(B * klen), *vals = malloc(B * vlen);
	uint64_t in = 0, out = 0;
	uint32_t count;
	int first = 1, ret = 0, err;

	*n = 0;
	if (!keys || !vals)
		ret = -ENOMEM;
	while (!ret) {
		count = B;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &count, &o);
		*n += count;
		if (err && errno == ENOENT)
			break; /* the last batch */
		if (err) {
			ret = -errno;
			break;
		}
		in = out;
		first = 0;
	}
	free(keys);
	free(vals);
	return ret;
}

int xdp_maps_occupancy(struct xdp_prog *x, struct xdp_maps_occupancy *o)
{
	int fd4 = xdp_maps_fd(x, "steer_flows4"),
	    fd6 = xdp_maps_fd(x, "steer_flows");
	int ret;

	memset(o, 0, sizeof(*o));
	if (fd4 < 0 || fd6 < 0)
		return fd4 < 0 ? fd4 : fd6;
	o->size = (uint32_t)(xdp_maps_flow_capacity(x) / 2); /* the same */
	ret = xdp_maps_count(fd4, sizeof(struct steer_flow4_key),
			     sizeof(struct steer_rule), &o->flows4);
	return ret
		       ?: xdp_maps_count(fd6, sizeof(struct flow_key),
					 sizeof(struct steer_rule), &o->flows6);
}
