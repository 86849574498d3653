// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exception path: a miss of the fast path, sent here by GUE, finds
 * its flow's state, asks the other cells for it, or decides it (only
 * when new); the state is replicated and the packet mirrored; the rule
 * goes back to the fast-path node and the packet on to its backend. What
 * a burst of exceptions sends waits in its socket's queue and leaves at
 * the burst's end, one sendmmsg() per socket (cell_batch_begin).
 */
#include "cell/cell_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <steer/gue.h>

#include "util/evloop.h"
#include "util/log.h"

#define MOD "cell"
/* For this long after a shard's primary changed, its other cells may
 * still hold flows this cell has no record of yet: a flow's first packet
 * (UDP, a SYN) is asked about too, not only mid-flow TCP. */
#define CELL_MOVED_ASK_MS 5000u
/* An exception that already waited for the other cells' answers. */
#define CELL_EXC_ASKED 1u

void cell_send(struct cell *c, struct sendq *q, int fd, const void *buf,
	       size_t len, const struct sockaddr_storage *ss, socklen_t slen,
	       uint64_t *sent, uint64_t *failed)
{
	sendq_put(q, fd, buf, len, (const struct sockaddr *)ss, slen, sent,
		  failed);
	if (!c->batch)
		sendq_flush(q, fd);
}

void cell_batch_begin(struct cell *c)
{
	c->batch++;
}

void cell_batch_end(struct cell *c)
{
	int i, j;

	if (--c->batch)
		return;
	sendq_flush(c->sq_ctl, c->ctl_fd);
	sendq_flush(c->sq_fwd[0], c->fwd_fd4);
	sendq_flush(c->sq_fwd[1], c->fwd_fd6);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			sendq_flush(c->sq_raw[i][j], c->raw_fd[i][j]);
}

static void cell_rule_of(const struct flowtab_rec *rec, struct cellmsg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->key = rec->key;
	r->version = rec->version;
	r->epoch = rec->epoch;
	r->backend = rec->backend;
	r->primary = rec->primary;
	r->mirror[0] = rec->mirror[0];
	r->mirror[1] = rec->mirror[1];
	r->action = STEER_ACT_BACKEND;
	r->rf = rec->rf;
}

/* Tell fast-path node `to` the flow's rule (or install it, if that is
 * this node). */
static void cell_rule_send(struct cell *c, uint16_t to,
			   const struct flowtab_rec *rec)
{
	struct cellmsg m = {.type = CELLMSG_RULE};

	cell_rule_of(rec, &m.rule);
	if (to == cell_self(c))
		cell_rule_install(c, &m.rule);
	else
		cell_ctl_queue(c, to, &m, &c->st.rules_tx, &c->st.rules_tx_err);
}

/* A fast path's report of rules in use: the flows do not idle out. */
void cell_touch_apply(struct cell *c, const struct cellmsg_touch *t)
{
	uint32_t i, now = cell_now_ms();

	c->st.touch_rx++;
	for (i = 0; i < t->count; i++)
		c->st.touched += !flowtab_seen(c->ft, &t->keys[i], now);
}

/* A mirrored packet: its record merges by the version rule. */
void cell_mirror_apply(struct cell *c, const struct cellmsg_mirror *mm)
{
	struct flowtab_rec rec;
	int ret;

	c->st.mirror_rx++;
	repl_rec_from_wire(&mm->rec, &rec);
	ret = flowtab_apply(c->ft, &rec, cell_now_ms());
	if (ret > 0)
		c->st.mirror_applied++;
	else if (ret < 0)
		c->st.mirror_rx_err++;
}

/* Another cell asks whether this one holds flow k's state: the record,
 * or none. */
void cell_query_answer(struct cell *c, uint16_t from, const struct flow_key *k)
{
	const struct flowtab_rec *rec = flowtab_lookup(c->ft, k);
	struct cellmsg m = {.type = CELLMSG_ANSWER};

	c->st.query_rx++;
	m.ans.key = *k;
	if (rec) {
		m.ans.found = 1;
		repl_rec_to_wire(rec, &m.ans.rec);
		m.ans.rec.key = *k;
	}
	cell_ctl_queue(c, from, &m, NULL, &c->st.answer_tx_err);
}

/* A cell's answer to this one's question: its record merges by the
 * version rule; the flow waits no more once one came (query_run). */
void cell_answer_apply(struct cell *c, uint16_t from,
		       const struct cellmsg_answer *a)
{
	struct flowtab_rec rec;

	c->st.answer_rx++;
	if (a->found) {
		repl_rec_from_wire(&a->rec, &rec);
		if (flowtab_apply(c->ft, &rec, cell_now_ms()) < 0)
			c->st.answer_refused++;
	}
	/* Only an answer that ends a wait releases anything now. */
	if (query_answer(c->query, &a->key, from, a->found) == 1)
		query_run(c->query, evloop_now_ms(), cell_query_send,
			  cell_query_release, c);
}

/* Send the inner IP packet to backend b as its encapsulation asks. */
static void cell_forward(struct cell *c, const struct cluster_backend *b,
			 const uint8_t *ip, size_t len, int inner_v6)
{
	const struct flow_addr *a = cell_addr_of(c, &b->ep);
	struct sockaddr_storage ss;
	struct sendq *q;
	socklen_t slen;
	int fd, v6;

	if (!a) {
		c->st.fwd_err++;
		return;
	}
	v6 = !flow_addr_is_v4(a);
	if (b->encap == STEER_TMPL_GUE1) {
		/* GUE variant 1: the inner packet is the UDP payload. */
		cell_sockaddr(a, ntohs(b->port), &ss, &slen);
		fd = v6 ? c->fwd_fd6 : c->fwd_fd4;
		q = c->sq_fwd[v6];
	} else {
		/* IP-in-IP: the kernel writes the outer header. */
		cell_sockaddr(a, 0, &ss, &slen);
		fd = c->raw_fd[v6][inner_v6];
		q = c->sq_raw[v6][inner_v6];
		if (fd < 0) {
			fd = socket(v6 ? AF_INET6 : AF_INET,
				    SOCK_RAW | SOCK_CLOEXEC,
				    inner_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP);
			c->raw_fd[v6][inner_v6] = fd;
		}
	}
	if (fd < 0)
		c->st.fwd_err++;
	else
		cell_send(c, q, fd, ip, len, &ss, slen, &c->st.fwd,
			  &c->st.fwd_err);
}

/* The cluster's service of the fast path's service index svc (the
 * services with backends, in file order), or NULL. */
static const struct cluster_service *cell_service(const struct cell *c,
						  uint16_t svc)
{
	const struct cluster *cl = c->w.cluster;
	uint32_t i, n = 0;

	for (i = 0; i < cl->n_services; i++) {
		if (!cl->services[i].n_backends)
			continue;
		if (n++ == svc)
			return &cl->services[i];
	}
	return NULL;
}

uint32_t cell_rf_of(const struct cell *c, uint16_t svc)
{
	const struct cluster_service *s = cell_service(c, svc);

	return s ? cluster_service_rf(c->w.cluster, s)
		 : c->w.cluster->replication;
}

static uint8_t cell_mirror_mode(const struct cell *c, uint16_t svc)
{
	const struct cluster_service *s = cell_service(c, svc);

	return s ? s->mirror_pkts : CLUSTER_MIRROR_STATE;
}

/* The profile of flow k of service svc, of a shard this cell is primary
 * of, as the shard map has it now: the mirroring director's. */
static void cell_profile_by(const struct cell *c,
			    const struct director_predictor *p,
			    const uint16_t *cells, const struct flow_key *k,
			    uint16_t svc, uint16_t *primary, uint16_t *mirror,
			    uint8_t *rf)
{
	uint16_t ranked[1 + STEER_MAX_MIRRORS];
	struct director_flow f = {.key = k,
				  .service = svc,
				  .rf_config = (uint8_t)cell_rf_of(c, svc),
				  .ranked = ranked,
				  .n_ranked = c->shards->rf};
	uint32_t i;

	ranked[0] = cell_self(c);
	for (i = 1; i < 1 + STEER_MAX_MIRRORS; i++)
		ranked[i] = cells[i];
	if (f.n_ranked > 1 + STEER_MAX_MIRRORS)
		f.n_ranked = 1 + STEER_MAX_MIRRORS;
	director_profile(p, &f, primary, mirror, rf);
}

static void cell_profile(const struct cell *c, const uint16_t *cells,
			 const struct flow_key *k, uint16_t svc,
			 uint16_t *primary, uint16_t *mirror, uint8_t *rf)
{
	cell_profile_by(c, c->predictor, cells, k, svc, primary, mirror, rf);
}

int cell_raise(struct cell *c, const struct flowtab_rec *rec, uint32_t now)
{
	uint64_t h = flow_hash(&rec->key, c->w.secret);
	const uint16_t *cells = c->shards->cell[shard_of_hash(h)];
	struct flowtab_rec r = *rec;

	if (cells[0] != cell_self(c) || rec->primary != cell_self(c))
		return -1;
	cell_profile_by(c, &director_config, cells, &r.key, r.service,
			&r.primary, r.mirror, &r.rf);
	if (r.rf <= rec->rf)
		return -1;
	r.version = rec->version + 1;
	if (flowtab_apply(c->ft, &r, now) <= 0)
		return -1;
	rec = flowtab_lookup(c->ft, &r.key);
	if (rec && c->repl)
		repl_record(c->repl, rec);
	return 0;
}

bool cell_pick_is(const struct cell *c, const struct flowtab_rec *rec)
{
	uint64_t h = flow_hash(&rec->key, c->w.secret);
	uint16_t svc, backend;

	return !fastpath_backend_pick(c->w.fp, &rec->key, h, &svc, &backend) &&
	       backend == rec->backend;
}

/*
 * A copy this cell holds as a mirror, of a shard it is now primary of
 * (its primary died): this cell adopts it, with the mirrors of today's
 * map, at a newer version that goes to them.
 */
const struct flowtab_rec *cell_adopt(struct cell *c,
				     const struct flowtab_rec *rec,
				     const uint16_t *cells, uint32_t now)
{
	struct flowtab_rec r = *rec;

	cell_profile(c, cells, &r.key, r.service, &r.primary, r.mirror, &r.rf);
	r.version = flowtab_version_next(c->ft, rec->version, now);
	if (flowtab_apply(c->ft, &r, now) <= 0)
		return rec;
	rec = flowtab_lookup(c->ft, &r.key);
	if (rec && c->repl)
		repl_record(c->repl, rec);
	c->st.adopted++;
	return rec;
}

/* The backend the hash picks for a new flow k of hash h, and its service:
 * false when none (counted: no service, or none of its backends). */
static bool cell_pick(struct cell *c, const struct flow_key *k, uint64_t h,
		      uint16_t *svc, uint16_t *backend)
{
	int err = fastpath_backend_pick(c->w.fp, k, h, svc, backend);

	if (err == -ENOENT)
		c->st.no_service++;
	else if (err)
		c->st.no_backend++;
	return !err;
}

/* The state of flow k: rec (its record here, NULL: none), adopted when
 * this cell is its shard's primary now, or created with a backend
 * (*created). NULL: none (*full when the table had no room). */
static const struct flowtab_rec *cell_flow(struct cell *c,
					   const struct flow_key *k,
					   const struct flowtab_rec *rec,
					   uint32_t now, bool *created,
					   bool *full)
{
	uint64_t h = flow_hash(k, c->w.secret);
	const uint16_t *cells = c->shards->cell[shard_of_hash(h)];
	struct flowtab_params p = {.epoch = c->incarnation};

	if (rec && rec->primary != cell_self(c) && cells[0] == cell_self(c))
		return cell_adopt(c, rec, cells, now);
	if (rec)
		return rec;
	if (!cell_pick(c, k, h, &p.service, &p.backend))
		return NULL;
	cell_profile(c, cells, k, p.service, &p.primary, p.mirror, &p.rf);
	rec = flowtab_create(c->ft, k, &p, now);
	if (!rec) {
		*full = errno == ENOSPC;
		c->st.table_full += *full;
		return NULL;
	}
	c->st.flows_created++;
	*created = true;
	return rec;
}

/*
 * Packet mirroring: the packet's head and the flow's record after it, to
 * each mirror cell of the flow, as one MIRROR datagram each.
 */
static void cell_mirror_send(struct cell *c, const struct flowtab_rec *rec,
			     const uint8_t *ip, size_t ilen)
{
	struct cellmsg m = {.type = CELLMSG_MIRROR};
	uint32_t i;

	repl_rec_to_wire(rec, &m.mir.rec);
	m.mir.orig_len = (uint16_t)(ilen > 65535 ? 65535 : ilen);
	m.mir.cap_len =
		(uint16_t)(ilen < CELLMSG_MIRROR_CAP ? ilen
						     : CELLMSG_MIRROR_CAP);
	memcpy(m.mir.pkt, ip, m.mir.cap_len);
	for (i = 0; i + 1 < rec->rf && i < STEER_MAX_MIRRORS; i++)
		cell_ctl_queue(c, rec->mirror[i], &m, &c->st.mirror_tx,
			       &c->st.mirror_tx_err);
}

/* Does this packet go to the mirrors, by its service's mode? */
static bool cell_mirror_wanted(uint8_t mode, bool changed, uint8_t tcp_flags)
{
	if (mode == CLUSTER_MIRROR_ALL)
		return true;
	return mode == CLUSTER_MIRROR_STATE &&
	       (changed ||
		(tcp_flags & (STEER_TCP_SYN | STEER_TCP_FIN | STEER_TCP_RST)));
}

/*
 * A flow without state in a shard whose state is on its way back to this
 * restarted cell: its datagram waits (true), to be run when it arrives.
 */
static bool cell_held(struct cell *c, const struct flow_key *k,
		      const uint8_t *dg, size_t len)
{
	uint32_t shard = flowtab_shard_of(c->ft, k);

	if (!hold_waiting(c->hold, shard))
		return false;
	hold_put(c->hold, shard, dg, len);
	return true;
}

/*
 * A new flow of a shard another cell is primary of, by this cell's map:
 * only the primary decides (it alone has the shard's state), so the
 * datagram goes on to it, once more at most (maps that disagree for a
 * moment must not bounce it for ever; then this cell decides). True when
 * relayed.
 */
static bool cell_relayed(struct cell *c, const struct flow_key *k, uint8_t *dg,
			 size_t len)
{
	struct steer_gue_priv *pd =
		(struct steer_gue_priv *)(dg + sizeof(struct steer_guehdr));
	uint32_t shard = flowtab_shard_of(c->ft, k);
	uint16_t to = c->shards->cell[shard][0];
	const struct cluster_node *n;
	const struct flow_addr *a;
	struct sockaddr_storage ss;
	socklen_t slen;

	if (to == cell_self(c) || to == STEER_NODE_NONE || pd->hops >= 2)
		return false;
	n = cluster_node_by_id(c->w.cluster, to);
	a = n ? cell_addr_of(c, &n->ep) : NULL;
	if (!a)
		return false;
	pd->hops++;
	cell_sockaddr(a, ntohs(c->w.cluster->gue_port), &ss, &slen);
	if (sendto(c->exc_fd, dg, len, MSG_DONTWAIT, (struct sockaddr *)&ss,
		   slen) < 0)
		c->st.relay_err++;
	else
		c->st.relayed++;
	return true;
}

/* Is c among the live cells of the map? */
static bool cell_is_live(const struct cell *c, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < c->n_live; i++)
		if (c->live[i] == id)
			return true;
	return false;
}

/* Add id to ids[0..*n) unless it is this cell, not live, there already or
 * the list is full. */
static void cell_ask_add(const struct cell *c, uint16_t *ids, uint32_t *n,
			 uint16_t id)
{
	uint32_t i;

	if (id == cell_self(c) || *n == QUERY_ASK_MAX || !cell_is_live(c, id))
		return;
	for (i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	ids[(*n)++] = id;
}

/*
 * The cells that may hold a flow of shard: its mirrors, its cells of the
 * map before (the previous primary and mirrors), then every other live
 * cell, QUERY_ASK_MAX at most. Returns how many.
 */
static uint32_t cell_ask_list(const struct cell *c, uint32_t shard,
			      uint16_t *ids)
{
	uint32_t i, n = 0;

	for (i = 0; i < 1 + STEER_MAX_MIRRORS; i++)
		cell_ask_add(c, ids, &n, c->shards->cell[shard][i]);
	for (i = 0; i < 1 + STEER_MAX_MIRRORS; i++)
		cell_ask_add(c, ids, &n, c->prev->cell[shard][i]);
	for (i = 0; i < c->n_live; i++)
		cell_ask_add(c, ids, &n, c->live[i]);
	return n;
}

void cell_query_send(void *arg, const struct flow_key *k, uint16_t to)
{
	struct cell *c = arg;
	struct cellmsg m = {.type = CELLMSG_QUERY};

	m.query = *k;
	cell_ctl_queue(c, to, &m, &c->st.query_tx, &c->st.query_tx_err);
}

/*
 * A flow this cell holds no record of, from a packet that is not a
 * flow's first (TCP without SYN), or not known to be (UDP and others) in
 * a shard whose primary changed a moment ago: another cell may hold it,
 * and deciding it again could move a live connection to another backend. The datagram waits while the
 * cells that may hold it are asked (true); false: decide now (a first
 * packet, or nobody to ask).
 */
static bool cell_asked(struct cell *c, const struct pkt_meta *m,
		       const uint8_t *dg, size_t len, bool guarded)
{
	uint32_t shard = flowtab_shard_of(c->ft, &m->key), n, i;
	uint16_t ids[QUERY_ASK_MAX];
	bool tcp = m->key.proto == STEER_IPPROTO_TCP;
	bool moved = evloop_now_ms() - c->moved_ms[shard] <= CELL_MOVED_ASK_MS;
	int ret;

	/* A SYN opens a connection: new. A UDP flow's first packet looks
	 * like any other: new unless its shard just moved. Above the flood
	 * guard's budget only a moved shard's flows are asked about (a
	 * flood of mid-flow packets must not become a flood of queries). */
	if (tcp && (m->tcp_flags & STEER_TCP_SYN))
		return false;
	if ((!tcp || guarded) && !moved)
		return false;
	n = cell_ask_list(c, shard, ids);
	if (!n)
		return false;
	ret = query_hold(c->query, &m->key, ids, n, dg, len, evloop_now_ms());
	for (i = 0; ret == 1 && i < n; i++)
		cell_query_send(c, &m->key, ids[i]);
	return true;
}

/*
 * A flow this cell keeps no state for (the flood guard's, or the table
 * is full): to the backend the hash picks, as a new flow's would be, so
 * the flow's later packets, decided when there is room, go there too.
 */
static void cell_stateless(struct cell *c, const struct pkt_meta *m,
			   const uint8_t *ip, size_t ilen, uint64_t *ctr)
{
	uint64_t h = flow_hash(&m->key, c->w.secret);
	const struct cluster_backend *b;
	uint16_t svc, backend;

	if (!cell_pick(c, &m->key, h, &svc, &backend))
		return;
	b = cluster_backend_by_id(c->w.cluster, backend);
	if (!b) {
		c->st.no_backend++;
		return;
	}
	(*ctr)++;
	cell_forward(c, b, ip, ilen, m->family == 6);
}

/*
 * One exception datagram: GUE header, steer's private data, the inner IP
 * packet. A frame is made of the inner packet behind a dummy Ethernet
 * header, so the one parser keys it as the fast path did. flags:
 * CELL_EXC_ASKED when the other cells were asked about it already.
 */
static void cell_exception(struct cell *c, uint8_t *dg, size_t len,
			   uint8_t *frame, uint32_t now, uint32_t flags)
{
	const struct steer_guehdr *g = (const void *)dg;
	const struct steer_gue_priv *pd = (const void *)(g + 1);
	const struct flowtab_rec *rec;
	const struct cluster_backend *b;
	struct parse_cfg pc = {.gue_port = 0, .max_encap = 0};
	size_t hdr = sizeof(*g) + sizeof(*pd), ilen;
	bool created = false, full = false, changed, guarded;
	struct pkt_meta m;
	uint8_t *ip = dg + hdr, mode;

	c->st.exc_rx++;
	if (len <= hdr || STEER_GUE_VER(g->vch) != 0 ||
	    STEER_GUE_HLEN(g->vch) != STEER_GUE_PRIV_WORDS ||
	    pd->magic != STEER_GUE_PRIV_MAGIC ||
	    !(pd->flags & STEER_GUE_F_EXCEPTION) || len - hdr > 65535) {
		c->st.exc_bad++;
		return;
	}
	ilen = len - hdr;
	guarded = pd->flags & STEER_GUE_F_GUARDED;
	memset(frame, 0, sizeof(struct steer_ethhdr));
	((struct steer_ethhdr *)frame)->proto =
		htons((ip[0] >> 4) == 6 ? STEER_ETH_P_IPV6 : STEER_ETH_P_IP);
	memcpy(frame + sizeof(struct steer_ethhdr), ip, ilen);
	if (parse_packet(frame, frame + sizeof(struct steer_ethhdr) + ilen, &pc,
			 &m)) {
		c->st.exc_parse++;
		return;
	}
	/* A flow without a record here may wait for its state (a hand-back,
	 * the other cells' answers) or belong to another primary. */
	rec = flowtab_lookup(c->ft, &m.key);
	if (!rec && (cell_held(c, &m.key, dg, len) ||
		     cell_relayed(c, &m.key, dg, len) ||
		     (!(flags & CELL_EXC_ASKED) &&
		      cell_asked(c, &m, dg, len, guarded))))
		return;
	if (!rec && guarded)
		return cell_stateless(c, &m, ip, ilen, &c->st.guarded);
	rec = cell_flow(c, &m.key, rec, now, &created, &full);
	if (!rec) {
		if (full)
			cell_stateless(c, &m, ip, ilen, &c->st.full_stateless);
		return;
	}
	changed = flowtab_touch(c->ft, &m.key, (uint32_t)ilen, m.tcp_flags,
				now) == 1;
	rec = flowtab_lookup(c->ft, &m.key);
	if (!rec)
		return;
	mode = cell_mirror_mode(c, rec->service);
	if (cell_mirror_wanted(mode, created || changed, m.tcp_flags))
		cell_mirror_send(c, rec, ip, ilen);
	/* A closing flow's last packets come this way (the fast path dropped
	 * its rule with the FIN or RST), and so do all of an ALL service. */
	if (mode != CLUSTER_MIRROR_ALL && rec->state != FLOWTAB_ST_CLOSING)
		cell_rule_send(c, ntohs(pd->origin), rec);
	b = cluster_backend_by_id(c->w.cluster, rec->backend);
	if (b)
		cell_forward(c, b, ip, ilen, m.family == 6);
	else
		c->st.no_backend++;
}

/*
 * Did the datagram come from a node of the cluster? Exception datagrams
 * carry no authentication (they are the fast path's packets, GUE as
 * XDP writes it), so the fabric's addresses are their trust boundary:
 * from anywhere else they are refused (exc_foreign). The fabric network
 * must not let others send from those addresses (docs/architecture.md).
 */
static bool cell_from_fabric(const struct cell *c,
			     const struct sockaddr_storage *ss)
{
	const struct cluster *cl = c->w.cluster;
	const struct cluster_endpoint *ep;
	struct flow_addr a;
	uint32_t i;

	if (ss->ss_family == AF_INET)
		flow_addr_set_v4(
			&a, ((const struct sockaddr_in *)ss)->sin_addr.s_addr);
	else if (ss->ss_family == AF_INET6)
		memcpy(a.b, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else
		return false;
	for (i = 0; i < cl->n_nodes; i++) {
		ep = &cl->nodes[i].ep;
		if ((ep->has_v4 && !memcmp(&ep->addr4, &a, sizeof(a))) ||
		    (ep->has_v6 && !memcmp(&ep->addr6, &a, sizeof(a))))
			return true;
	}
	return false;
}

/* The kernel's receipt time of a datagram (SO_TIMESTAMPNS), in ns of
 * CLOCK_REALTIME; 0 when it gave none. */
static uint64_t cell_rx_time(struct msghdr *mh)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000ull +
			       (uint64_t)ts.tv_nsec;
		}
	return 0;
}

/* Each datagram's time from its receipt to the end of its burst. */
static void cell_rx_latency(struct cell *c, const uint64_t *rx, int n)
{
	struct timespec ts;
	uint64_t now;
	int i;

	if (!n || clock_gettime(CLOCK_REALTIME, &ts))
		return;
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (i = 0; i < n; i++)
		if (rx[i] && rx[i] <= now)
			hist_add(&c->st.exc_latency, (now - rx[i]) / 1000);
}

void cell_on_exception(struct evloop *el, int fd, uint32_t events, void *arg)
{
	static uint8_t dg[CELL_DGRAM_MAX];
	/* The frame starts STEER_FRAME_ALIGN_OFF into an aligned buffer. */
	static uint8_t frame[CELL_DGRAM_MAX + 64] __attribute__((aligned(8)));
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	struct cell *c = arg;
	uint32_t now = cell_now_ms();
	uint64_t rx[CELL_RX_BURST];
	struct sockaddr_storage ss;
	struct iovec iov = {.iov_base = dg, .iov_len = sizeof(dg)};
	struct msghdr mh = {.msg_name = &ss, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	int i, m = 0;

	/* A burst's datagrams out (rules, mirrors, forwards) leave together
	 * at its end: a sendmmsg() per socket, not a sendto() each. */
	cell_batch_begin(c);
	for (i = 0; i < CELL_RX_BURST; i++) {
		mh.msg_namelen = sizeof(ss);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			break;
		if (!cell_from_fabric(c, &ss)) {
			c->st.exc_rx++;
			c->st.exc_foreign++;
			continue;
		}
		rx[m++] = cell_rx_time(&mh);
		cell_exception(c, dg, (size_t)n, frame + STEER_FRAME_ALIGN_OFF,
			       now, 0);
	}
	cell_batch_end(c);
	cell_rx_latency(c, rx, m);
}

void cell_exception_burst(struct cell *c, uint8_t **dg, const size_t *len,
			  unsigned n)
{
	static uint8_t frame[CELL_DGRAM_MAX + 64] __attribute__((aligned(8)));
	uint32_t now = cell_now_ms();
	unsigned i;

	cell_batch_begin(c);
	for (i = 0; i < n; i++)
		if (len[i] <= CELL_DGRAM_MAX)
			cell_exception(c, dg[i], len[i],
				       frame + STEER_FRAME_ALIGN_OFF, now, 0);
	cell_batch_end(c);
}

/* A held datagram whose shard's state is here (or waited long enough). */
void cell_held_run(void *arg, uint8_t *dg, size_t len)
{
	static uint8_t frame[HOLD_DGRAM_MAX + 64] __attribute__((aligned(8)));

	cell_exception(arg, dg, len, frame + STEER_FRAME_ALIGN_OFF,
		       cell_now_ms(), 0);
}

/* A datagram whose flow the other cells were asked about: its record is
 * here now (found), or nobody had one and it is decided. */
void cell_query_release(void *arg, uint8_t *dg, size_t len, bool found)
{
	static uint8_t frame[QUERY_DGRAM_MAX + 64] __attribute__((aligned(8)));

	(void)found;
	cell_exception(arg, dg, len, frame + STEER_FRAME_ALIGN_OFF,
		       cell_now_ms(), CELL_EXC_ASKED);
}
