// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer's gossip nodes for steer-gossip-bench, two ways:
 *
 *   - gb_sys_steer: all nodes in this process, one thread, one poll()
 *     loop over their sockets (a node waits while another works);
 *   - gb_sys_steer_procs: one forked process per node with its own event
 *     loop, told what to do over a pipe, killed with SIGKILL for the
 *     crash: the shape serf's agents have.
 *
 * Each node has its own UDP socket on 127.0.3.(i + 1), an ephemeral port,
 * and the daemon's defaults (gossip_config_default). What a node learns
 * comes from its gossip_events callbacks, stamped when they run. Bytes are
 * counted in the io send path: the datagram plus the IPv4 and UDP headers
 * (28), what an IP-layer counter such as nftables sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "gossip/gossip_net.h"

#include "gbench.h"

/* Child to parent: an event, or the answer to GBS_CMD_BYTES or
 * GBS_CMD_CTRS (one record per counter, subj its index). */
#define GBS_REC_BYTES 100
#define GBS_REC_CTR 101
struct gbs_rec {
	uint8_t kind;
	uint8_t obs;
	uint16_t subj;
	uint32_t pad;
	int64_t v;
	uint64_t v2;
};

enum gbs_cmd_op { GBS_CMD_ANN = 1, GBS_CMD_BYTES, GBS_CMD_CTRS, GBS_CMD_QUIT };

/* The counters that tell whether the cluster was healthy. */
enum gbs_ctr {
	GBS_CTR_SUSPICIONS,
	GBS_CTR_REFUTES,
	GBS_CTR_RX_REFUSED,
	GBS_CTR_TX_ERR,
	GBS_CTR_DROPPED,
	GBS_CTR_SYNCS,
	GBS_CTR_PUSHES,
	GBS_CTR_VERIFY,
	GBS_CTRS,
};

static const char *const gbs_ctr_names[GBS_CTRS] = {
	"suspicions",	  "refutes", "rx_refused", "tx_err",
	"dissem_dropped", "syncs",   "pushes",	   "verify_probes",
};

static void gbs_ctrs_get(const struct gossip *g, uint64_t *v)
{
	const struct gossip_counters *c = gossip_counters(g);
	uint32_t i;

	v[GBS_CTR_SUSPICIONS] = c->suspicions;
	v[GBS_CTR_REFUTES] = c->refutes;
	v[GBS_CTR_RX_REFUSED] = 0;
	for (i = 1; i < GOSSIP_RX_REASONS; i++)
		v[GBS_CTR_RX_REFUSED] += c->rx[i];
	v[GBS_CTR_TX_ERR] = c->tx_err;
	v[GBS_CTR_DROPPED] = c->dissem_dropped;
	v[GBS_CTR_SYNCS] = c->syncs;
	v[GBS_CTR_PUSHES] = c->pushes;
	v[GBS_CTR_VERIFY] = c->verify_probes;
}

static void gbs_ctrs_format(const uint64_t *v, uint32_t nodes, char *buf,
			    size_t len)
{
	size_t off;
	uint32_t i;

	off = (size_t)snprintf(buf, len, "%u nodes:", nodes);
	for (i = 0; i < GBS_CTRS && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " %s=%llu",
					gbs_ctr_names[i],
					(unsigned long long)v[i]);
}
struct gbs_cmd {
	uint32_t op;
	uint32_t arg;
};

struct gbs_node {
	struct gb_run *r; /* in-process: where events go */
	int ev_fd;	  /* one process each: where events go */
	uint32_t idx;
	struct gossip_net *net;
	struct gossip *g;
	struct gossip_addr addr;
	uint64_t bytes, pkts;
	pid_t pid;  /* its process (procs) */
	int cmd_fd; /* parent's end of its command pipe (procs) */
};

struct gbs {
	struct gbs_node nd[GB_MAXN];
	bool procs;
	int ev_rd, ev_wr;
	uint8_t rbuf[64 * sizeof(struct gbs_rec)];
	size_t rlen;
	uint32_t bytes_wait;
	struct gb_bytes bytes_sum;
	uint64_t ctrs[GBS_CTRS];
};

static void gbs_emit(struct gbs_node *nd, enum gb_ev ev, uint32_t subj)
{
	struct gbs_rec rec = {.kind = (uint8_t)ev,
			      .obs = (uint8_t)nd->idx,
			      .subj = (uint16_t)subj};
	int64_t t = gb_now_ns();

	if (nd->ev_fd < 0) {
		gb_record(nd->r, ev, nd->idx, subj, t);
		return;
	}
	rec.v = t;
	/* One record per write(): pipe writes up to PIPE_BUF are atomic. */
	while (write(nd->ev_fd, &rec, sizeof(rec)) < 0 && errno == EINTR)
		;
}

static void gbs_on_member(void *ctx, const struct gossip_member_info *m,
			  enum gossip_state old)
{
	struct gbs_node *nd = ctx;

	(void)old;
	if (!m->id || m->id > GB_MAXN)
		return;
	if (m->state == GOSSIP_ALIVE)
		gbs_emit(nd, GB_EV_JOIN, m->id - 1u);
	else if (m->state == GOSSIP_DEAD)
		gbs_emit(nd, GB_EV_DEAD, m->id - 1u);
}

static void gbs_on_session(void *ctx, const struct gossip_session_info *s)
{
	struct gbs_node *nd = ctx;
	uint32_t seq = gb_key_seq(&s->key);

	if (s->state == GOSSIP_SESSION_ESTABLISHED && seq >= 1 &&
	    seq <= GB_ANN_MAX)
		gbs_emit(nd, GB_EV_ANN, seq);
}

static uint64_t gbs_io_now(void *ctx)
{
	(void)ctx;
	return gossip_net_now_ms();
}

static int gbs_io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		       size_t len)
{
	struct gbs_node *nd = ctx;
	int rc = gossip_net_send(nd->net, to, buf, len);

	if (!rc) {
		nd->bytes += len + GB_IP_UDP_HDR;
		nd->pkts++;
	}
	return rc;
}

/* The node's socket, bound to 127.0.3.(idx + 1). 0 or -errno. */
static int gbs_node_open(struct gbs_node *nd)
{
	struct gossip_addr lo;
	char a[32];

	snprintf(a, sizeof(a), GB_STEER_NET "%u", nd->idx + 1);
	if (gossip_addr_parse(a, 0, &lo))
		return -EINVAL;
	nd->net = gossip_net_open(&lo);
	if (!nd->net)
		return -errno;
	return gossip_net_local(nd->net, &nd->addr);
}

/* The gossip node on the open socket, joined to seed unless NULL. */
static int gbs_node_new(struct gbs_node *nd, const struct gossip_addr *seed)
{
	struct gossip_io io = {
		.ctx = nd, .now_ms = gbs_io_now, .send = gbs_io_send};
	struct gossip_events ev = {
		.ctx = nd, .member = gbs_on_member, .session = gbs_on_session};
	struct gossip_config cfg;
	struct timespec ts;

	gossip_config_default(&cfg);
	cfg.self_id = (uint16_t)(nd->idx + 1);
	cfg.self = nd->addr;
	memset(cfg.key.b, 0x21, sizeof(cfg.key.b));
	clock_gettime(CLOCK_REALTIME, &ts);
	cfg.seq_start = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	nd->g = gossip_new(&cfg, &io, &ev);
	if (!nd->g)
		return -errno;
	/* Up (serf logs its own join, the scenario waits for the seed's). */
	gbs_emit(nd, GB_EV_JOIN, nd->idx);
	if (!seed)
		return 0;
	gbs_emit(nd, GB_EV_JOIN0, 0);
	return gossip_join(nd->g, seed, 1);
}

static void gbs_node_tick(struct gbs_node *nd)
{
	if (gossip_next_deadline(nd->g) <= gossip_net_now_ms())
		gossip_tick(nd->g);
}

static struct gbs *gbs_get(struct gb_run *r, bool procs)
{
	struct gbs *s = r->priv;
	uint32_t i;
	int p[2];

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->procs = procs;
	s->ev_rd = s->ev_wr = -1;
	for (i = 0; i < GB_MAXN; i++) {
		s->nd[i].r = r;
		s->nd[i].ev_fd = -1;
		s->nd[i].idx = i;
		s->nd[i].cmd_fd = -1;
	}
	if (procs) {
		if (pipe2(p, O_CLOEXEC)) {
			free(s);
			return NULL;
		}
		s->ev_rd = p[0];
		s->ev_wr = p[1];
		/* Room for a formation's worth of events between reads. */
		(void)fcntl(s->ev_wr, F_SETPIPE_SZ, 1 << 20);
	}
	r->priv = s;
	return s;
}

/* ---- all nodes in this process ---- */

static int gbs_start(struct gb_run *r, uint32_t i)
{
	struct gbs *s = gbs_get(r, false);
	int rc;

	if (!s)
		return -ENOMEM;
	rc = gbs_node_open(&s->nd[i]);
	if (rc)
		return rc;
	return gbs_node_new(&s->nd[i], i ? &s->nd[0].addr : NULL);
}

static int gbs_announce(struct gb_run *r, uint32_t origin, uint32_t seq)
{
	struct gbs *s = r->priv;
	struct flow_key k;

	gb_key(&k, seq);
	return gossip_session_announce(s->nd[origin].g, &k,
				       (uint16_t)(origin + 1), 1);
}

/* The socket goes (peers' datagrams are refused by the kernel, as after
 * kill -9); the node is never run again. */
static int gbs_crash(struct gb_run *r, uint32_t i)
{
	struct gbs *s = r->priv;

	gossip_net_close(s->nd[i].net);
	s->nd[i].net = NULL;
	return 0;
}

static void gbs_pump(struct gb_run *r, int timeout_ms)
{
	struct gbs *s = r->priv;
	struct pollfd pfd[GB_MAXN];
	uint32_t i, k = 0, map[GB_MAXN];
	uint64_t now = gossip_net_now_ms(), next = now + (uint64_t)timeout_ms;
	struct gbs_node *nd;

	for (i = 0; i < r->n; i++) {
		nd = &s->nd[i];
		if (!r->up[i] || !nd->g || !nd->net)
			continue;
		if (gossip_next_deadline(nd->g) < next)
			next = gossip_next_deadline(nd->g);
		pfd[k].fd = gossip_net_fd(nd->net);
		pfd[k].events = POLLIN;
		map[k++] = i;
	}
	if (poll(pfd, k, next > now ? (int)(next - now) : 0) < 0)
		return;
	for (i = 0; i < k; i++)
		if (pfd[i].revents & POLLIN)
			gossip_net_recv(s->nd[map[i]].net, s->nd[map[i]].g, 64);
	for (i = 0; i < k; i++)
		gbs_node_tick(&s->nd[map[i]]);
}

static int gbs_bytes(struct gb_run *r, struct gb_bytes *out)
{
	struct gbs *s = r->priv;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->n; i++) {
		if (!r->up[i])
			continue;
		out->bytes += s->nd[i].bytes;
		out->pkts += s->nd[i].pkts;
	}
	return 0;
}

static void gbs_stop(struct gb_run *r)
{
	struct gbs *s = r->priv;
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < GB_MAXN; i++) {
		gossip_free(s->nd[i].g);
		gossip_net_close(s->nd[i].net);
	}
	free(s);
	r->priv = NULL;
}

/* Summed over every node started, the crashed one as it was. */
static void gbs_notes(struct gb_run *r, char *buf, size_t len)
{
	struct gbs *s = r->priv;
	uint64_t sum[GBS_CTRS] = {0}, v[GBS_CTRS];
	uint32_t i, k, nodes = 0;

	for (i = 0; i < r->n; i++) {
		if (!s->nd[i].g)
			continue;
		gbs_ctrs_get(s->nd[i].g, v);
		for (k = 0; k < GBS_CTRS; k++)
			sum[k] += v[k];
		nodes++;
	}
	gbs_ctrs_format(sum, nodes, buf, len);
}

const struct gb_sys gb_sys_steer = {
	.name = "steer",
	.start = gbs_start,
	.announce = gbs_announce,
	.crash = gbs_crash,
	.pump = gbs_pump,
	.bytes = gbs_bytes,
	.stop = gbs_stop,
	.notes = gbs_notes,
};

/* ---- one process per node ---- */

static void gbs_child_cmd(struct gbs_node *nd, const struct gbs_cmd *c)
{
	struct gbs_rec rec = {.kind = GBS_REC_BYTES, .obs = (uint8_t)nd->idx};
	uint64_t v[GBS_CTRS];
	struct flow_key k;
	uint32_t i;

	switch (c->op) {
	case GBS_CMD_ANN:
		gb_key(&k, c->arg);
		gossip_session_announce(nd->g, &k, (uint16_t)(nd->idx + 1), 1);
		break;
	case GBS_CMD_BYTES:
		rec.v = (int64_t)nd->bytes;
		rec.v2 = nd->pkts;
		while (write(nd->ev_fd, &rec, sizeof(rec)) < 0 &&
		       errno == EINTR)
			;
		break;
	case GBS_CMD_CTRS:
		gbs_ctrs_get(nd->g, v);
		rec.kind = GBS_REC_CTR;
		for (i = 0; i < GBS_CTRS; i++) {
			rec.subj = (uint16_t)i;
			rec.v = (int64_t)v[i];
			while (write(nd->ev_fd, &rec, sizeof(rec)) < 0 &&
			       errno == EINTR)
				;
		}
		break;
	default:
		_exit(0);
	}
}

/* The node's own event loop; never returns. */
static void gbs_child(struct gbs_node *nd, int cmd_fd,
		      const struct gossip_addr *seed, pid_t parent)
{
	struct pollfd pfd[2];
	struct gbs_cmd c;
	uint64_t now, dl;
	ssize_t n;

	/* Never outlive the bench, however it ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (gbs_node_new(nd, seed))
		_exit(1);
	pfd[0].fd = gossip_net_fd(nd->net);
	pfd[0].events = POLLIN;
	pfd[1].fd = cmd_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		now = gossip_net_now_ms();
		dl = gossip_next_deadline(nd->g);
		if (poll(pfd, 2, dl > now ? (int)(dl - now) : 0) < 0 &&
		    errno != EINTR)
			_exit(1);
		if (pfd[0].revents & POLLIN)
			gossip_net_recv(nd->net, nd->g, 64);
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			n = read(cmd_fd, &c, sizeof(c));
			if (n == 0 || (n < 0 && errno != EINTR))
				_exit(0);
			if (n == (ssize_t)sizeof(c))
				gbs_child_cmd(nd, &c);
		}
		gbs_node_tick(nd);
	}
}

static int gbs_procs_start(struct gb_run *r, uint32_t i)
{
	struct gbs *s = gbs_get(r, true);
	struct gbs_node *nd;
	pid_t parent = getpid();
	uint32_t j;
	int rc, p[2];

	if (!s)
		return -ENOMEM;
	nd = &s->nd[i];
	rc = gbs_node_open(nd);
	if (rc)
		return rc;
	if (pipe2(p, O_CLOEXEC)) {
		rc = -errno;
		goto err_net;
	}
	fflush(NULL);
	nd->pid = fork();
	if (nd->pid < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		goto err_net;
	}
	if (!nd->pid) {
		close(p[1]);
		close(s->ev_rd);
		for (j = 0; j < GB_MAXN; j++)
			if (s->nd[j].cmd_fd >= 0)
				close(s->nd[j].cmd_fd);
		nd->ev_fd = s->ev_wr;
		gbs_child(nd, p[0], i ? &s->nd[0].addr : NULL, parent);
	}
	close(p[0]);
	nd->cmd_fd = p[1];
	rc = 0;
err_net:
	/* The child has its own copy of the socket. */
	gossip_net_close(nd->net);
	nd->net = NULL;
	return rc;
}

static int gbs_procs_cmd(struct gbs_node *nd, uint32_t op, uint32_t arg)
{
	struct gbs_cmd c = {.op = op, .arg = arg};

	if (nd->cmd_fd < 0)
		return -EBADF;
	if (write(nd->cmd_fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
		return -errno;
	return 0;
}

static int gbs_procs_announce(struct gb_run *r, uint32_t origin, uint32_t seq)
{
	struct gbs *s = r->priv;

	return gbs_procs_cmd(&s->nd[origin], GBS_CMD_ANN, seq);
}

static int gbs_procs_crash(struct gb_run *r, uint32_t i)
{
	struct gbs *s = r->priv;
	struct gbs_node *nd = &s->nd[i];

	if (nd->pid <= 0)
		return -ESRCH;
	if (kill(nd->pid, SIGKILL))
		return -errno;
	waitpid(nd->pid, NULL, 0);
	nd->pid = 0;
	close(nd->cmd_fd);
	nd->cmd_fd = -1;
	return 0;
}

static void gbs_procs_rec(struct gb_run *r, struct gbs *s,
			  const struct gbs_rec *rec)
{
	if (rec->kind == GBS_REC_CTR) {
		if (rec->subj < GBS_CTRS)
			s->ctrs[rec->subj] += (uint64_t)rec->v;
		if (rec->subj == GBS_CTRS - 1 && s->bytes_wait)
			s->bytes_wait--;
		return;
	}
	if (rec->kind == GBS_REC_BYTES) {
		s->bytes_sum.bytes += (uint64_t)rec->v;
		s->bytes_sum.pkts += rec->v2;
		if (s->bytes_wait)
			s->bytes_wait--;
		return;
	}
	gb_record(r, (enum gb_ev)rec->kind, rec->obs, rec->subj, rec->v);
}

static void gbs_procs_pump(struct gb_run *r, int timeout_ms)
{
	struct gbs *s = r->priv;
	struct pollfd pfd = {.fd = s->ev_rd, .events = POLLIN};
	struct gbs_rec rec;
	size_t off = 0;
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0 || !(pfd.revents & POLLIN))
		return;
	n = read(s->ev_rd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen);
	if (n <= 0)
		return;
	s->rlen += (size_t)n;
	for (; s->rlen - off >= sizeof(rec); off += sizeof(rec)) {
		memcpy(&rec, s->rbuf + off, sizeof(rec));
		gbs_procs_rec(r, s, &rec);
	}
	memmove(s->rbuf, s->rbuf + off, s->rlen - off);
	s->rlen -= off;
}

/* Ask every node up, gather the answers (2 s at most). */
static int gbs_procs_bytes(struct gb_run *r, struct gb_bytes *out)
{
	struct gbs *s = r->priv;
	int64_t end = gb_now_ns() + 2000000000ll;
	uint32_t i;

	memset(&s->bytes_sum, 0, sizeof(s->bytes_sum));
	s->bytes_wait = 0;
	for (i = 0; i < r->n; i++)
		if (r->up[i] && !gbs_procs_cmd(&s->nd[i], GBS_CMD_BYTES, 0))
			s->bytes_wait++;
	while (s->bytes_wait && gb_now_ns() < end)
		gbs_procs_pump(r, 10);
	if (s->bytes_wait)
		return -ETIMEDOUT;
	*out = s->bytes_sum;
	return 0;
}

/* Summed over the nodes up (a killed node's counters went with it). */
static void gbs_procs_notes(struct gb_run *r, char *buf, size_t len)
{
	struct gbs *s = r->priv;
	int64_t end = gb_now_ns() + 2000000000ll;
	uint32_t i, nodes;

	memset(s->ctrs, 0, sizeof(s->ctrs));
	s->bytes_wait = 0;
	for (i = 0; i < r->n; i++)
		if (r->up[i] && !gbs_procs_cmd(&s->nd[i], GBS_CMD_CTRS, 0))
			s->bytes_wait++;
	nodes = s->bytes_wait;
	while (s->bytes_wait && gb_now_ns() < end)
		gbs_procs_pump(r, 10);
	if (s->bytes_wait) {
		snprintf(buf, len, "no answer from %u nodes", s->bytes_wait);
		return;
	}
	gbs_ctrs_format(s->ctrs, nodes, buf, len);
}

static void gbs_procs_stop(struct gb_run *r)
{
	struct gbs *s = r->priv;
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < GB_MAXN; i++) {
		if (s->nd[i].pid > 0) {
			kill(s->nd[i].pid, SIGKILL);
			waitpid(s->nd[i].pid, NULL, 0);
		}
		if (s->nd[i].cmd_fd >= 0)
			close(s->nd[i].cmd_fd);
	}
	close(s->ev_rd);
	close(s->ev_wr);
	free(s);
	r->priv = NULL;
}

const struct gb_sys gb_sys_steer_procs = {
	.name = "steer_procs",
	.start = gbs_procs_start,
	.announce = gbs_procs_announce,
	.crash = gbs_procs_crash,
	.pump = gbs_procs_pump,
	.bytes = gbs_procs_bytes,
	.stop = gbs_procs_stop,
	.notes = gbs_procs_notes,
};
