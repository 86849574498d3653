// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-cell-bench: a cell's exception path, new flows per second, figures
 * one per line as `name value unit` (never pass/fail on time).
 *
 * Two steerd daemons of cell mode run in this process, as steerd runs
 * them (configuration files, cluster key, gossip, the cell, its XDP maps
 * loaded but attached nowhere), on the loopback of a network namespace of
 * their own. The bench hands cell 1 the exception datagrams a fast-path
 * node would send it (a SYN of a new flow of a service each), in bursts
 * of CB_BURST as its socket reads them, through the cell's own entry
 * (cell_exception_burst(), what it does with each burst its socket
 * reads): each flow is decided, its state created and replicated to cell
 * 2 over TCP, its RULE sent to the fast-path node (node 3, a UDP
 * datagram nobody reads) and the SYN forwarded to its backend (GUE, the
 * same); a burst's datagrams leave with one sendmmsg() per socket at its
 * end. A pass ends when cell 2 holds every flow, so the mirror's work is
 * in the figure too: both cells share this thread.
 * The second pass's service mirrors packets (mirror-packets
 * state-changes): a MIRROR datagram per SYN besides replication.
 *
 * Then the replication chain's cost (cell/repl.h, "Chain"): passes of
 * the first service with the cluster's replication-chain off and on, in
 * the order off on on off, ROUNDS times (a drift of the machine or of the
 * growing table weighs on both alike), each setting changed by a reload
 * of both daemons as an operator would, and its snapshots done before
 * the next pass. Per setting the median new flows/s, the process's CPU
 * time per flow (both cells) and the replication bytes per flow; then
 * the ratios.
 *
 *   steer-cell-bench [-n FLOWS] [-r ROUNDS]
 *                     (default 50,000 per pass, 2 rounds; needs root:
 *                      a network namespace and BPF maps)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <steer/gue.h>
#include <steer/parse.h>

#include "cell/cell.h"
#include "cell/repl.h"
#include "daemon/steerd.h"
#include "util/evloop.h"
#include "util/log.h"

#define CB_VIP 0xc6126401u /* 198.18.100.1 */
#define CB_GUE_PORT 6080
#define CB_ORIGIN 3 /* the fast-path node the misses come from */
#define CB_BURST 64 /* datagrams a cell's exception socket reads a wake-up */
#define CB_DGRAM 128
#define CB_ROUNDS_MAX 16

struct cb_bench {
	char dir[64];
	char pin[2][96];
	struct steerd d[2];
	int up[2];
	int listen_fd[6];
	int sink_fd[4]; /* node 3's control port, the backends' GUE port */
	int made_dir;
};

static double cb_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cb_write(const char *dir, const char *name, const char *text,
		    mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return chmod(path, mode);
}

/* The cluster as node `self` sees it, and its steerd file; chain: the
 * replication-chain line ("" for none: the default). */
static int cb_config(struct cb_bench *b, int self, const char *chain)
{
	char text[2048], name[32];

	snprintf(text, sizeof(text),
		 "# SPDX-License-Identifier: GPL-2.0-only\n"
		 "cluster cb\nself n%d\ngue-port %d\nmtu 1500\nreplication 2\n"
		 "%s"
		 "node n1 id 1 addr 127.0.0.1 mac 02:00:00:00:00:01\n"
		 "node n2 id 2 addr 127.0.0.2 mac 02:00:00:00:00:02\n"
		 "node n3 id 3 addr 127.0.0.3 mac 02:00:00:00:00:03\n"
		 "backend b1 id 1 addr 127.0.1.1 mac 02:00:00:00:01:01 "
		 "encap gue port 6081\n"
		 "backend b2 id 2 addr 127.0.1.2 mac 02:00:00:00:01:02 "
		 "encap gue port 6081\n"
		 "backend b3 id 3 addr 127.0.1.3 mac 02:00:00:00:01:03 "
		 "encap gue port 6081\n"
		 "service web proto tcp vip 198.18.100.1 port 80 "
		 "backends b1,b2,b3 mirror-packets none\n"
		 "service webm proto tcp vip 198.18.100.1 port 81 "
		 "backends b1,b2,b3 mirror-packets state-changes\n",
		 self, CB_GUE_PORT, chain);
	snprintf(name, sizeof(name), "cluster%d.conf", self);
	if (cb_write(b->dir, name, text, 0644))
		return -1;
	snprintf(
		text, sizeof(text),
		"cluster-file %s/cluster%d.conf\nadmin-socket %s/admin%d.sock\n"
		"interface lo\nmode cell\n"
		"cluster-key-file %s/key\nbpf-pin-dir %s\nxdp off\n"
		"log-level warn\n",
		b->dir, self, b->dir, self, b->dir, b->pin[self - 1]);
	snprintf(name, sizeof(name), "steerd%d.conf", self);
	return cb_write(b->dir, name, text, 0644);
}

/* This process alone in a network namespace, its loopback up (every
 * 127/8 address is its own). */
static int cb_netns(void)
{
	struct ifreq ifr;
	int fd, ret;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

/* The backends' service ports listen, so their health checks pass. */
static int cb_backends_listen(struct cb_bench *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int i;

	for (i = 0; i < 6; i++) {
		int one = 1,
		    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		b->listen_fd[i] = fd;
		sa.sin_addr.s_addr = htonl(0x7f000101u + (uint32_t)(i / 2));
		sa.sin_port = htons(i % 2 ? 81 : 80);
		if (fd < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(fd, 1024))
			return -1;
	}
	return 0;
}

/*
 * What the cells send away lands in sockets nobody reads, as it would on
 * other machines (an unbound port would cost an ICMP error each): n3's
 * control port (the cluster's default cell-ports) and the backends' GUE
 * port.
 */
static int cb_sinks(struct cb_bench *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int i;

	for (i = 0; i < 4; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		b->sink_fd[i] = fd;
		sa.sin_addr.s_addr =
			htonl(i ? 0x7f000100u + (uint32_t)i : 0x7f000003u);
		sa.sin_port = htons(i ? 6081 : CLUSTER_CELL_CTL_PORT_DEFAULT);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
	}
	return 0;
}

/* Both daemons' loops, once each, waiting at most ms in each. */
static void cb_run(struct cb_bench *b, int ms)
{
	evloop_run_once(b->d[0].el, ms);
	evloop_run_once(b->d[1].el, ms);
}

static int cb_start(struct cb_bench *b)
{
	static const char key[] = "000102030405060708090a0b0c0d0e0f"
				  "101112131415161718191a1b1c1d1e1f\n";
	char err[512] = "", conf[128];
	int i;

	snprintf(b->dir, sizeof(b->dir), "/tmp/steer-cellbench-XXXXXX");
	for (i = 0; i < 6; i++)
		b->listen_fd[i] = -1;
	for (i = 0; i < 4; i++)
		b->sink_fd[i] = -1;
	b->made_dir = mkdtemp(b->dir) != NULL;
	if (!b->made_dir || cb_write(b->dir, "key", key, 0600)) {
		fprintf(stderr, "steer-cell-bench: %s: %s\n", b->dir,
			strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		snprintf(b->pin[i], sizeof(b->pin[i]),
			 "/sys/fs/bpf/steer-cellbench-%d-%d", (int)getpid(),
			 i + 1);
		if (cb_config(b, i + 1, ""))
			return -1;
	}
	if (cb_netns() || cb_backends_listen(b) || cb_sinks(b)) {
		fprintf(stderr, "steer-cell-bench: network namespace: %s\n",
			strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		struct steerd_opts o = {.config = conf, .log_level = -1};

		snprintf(conf, sizeof(conf), "%s/steerd%d.conf", b->dir, i + 1);
		if (steerd_init(&b->d[i], &o, err, sizeof(err))) {
			fprintf(stderr, "steer-cell-bench: steerd %d: %s\n",
				i + 1, err);
			return -1;
		}
		b->up[i] = 1;
	}
	return 0;
}

/* Until gossip and replication have both cells in cell 1's map (10 s). */
static int cb_wait_cells(struct cb_bench *b)
{
	int i;

	for (i = 0; i < 2000; i++) {
		const struct shard_map *m = cell_shards(b->d[0].cell);
		const struct shard_map *m2 = cell_shards(b->d[1].cell);

		if (m && m2 && shard_map_count(m, 2, 0) &&
		    shard_map_count(m2, 1, 0) && shard_map_count(m, 1, 1))
			return 0;
		cb_run(b, 5);
	}
	fprintf(stderr, "steer-cell-bench: the two cells never met\n");
	return -1;
}

/* A pin directory and the pins in it (steerd leaves them for a restart
 * to find; this bench's are its own). */
static void cb_unpin(const char *dir)
{
	char path[256];
	struct dirent *e;
	DIR *d = dir[0] ? opendir(dir) : NULL;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

static void cb_stop(struct cb_bench *b)
{
	char path[256];
	int i;

	for (i = 0; i < 2; i++)
		if (b->up[i])
			steerd_fini(&b->d[i]);
	for (i = 0; i < 6; i++)
		if (b->listen_fd[i] >= 0)
			close(b->listen_fd[i]);
	for (i = 0; i < 4; i++)
		if (b->sink_fd[i] >= 0)
			close(b->sink_fd[i]);
	for (i = 0; i < 2; i++)
		cb_unpin(b->pin[i]);
	if (!b->made_dir)
		return;
	for (i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path), "%s/cluster%d.conf", b->dir, i);
		unlink(path);
		snprintf(path, sizeof(path), "%s/steerd%d.conf", b->dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/key", b->dir);
	unlink(path);
	rmdir(b->dir);
}

/* The exception datagram of a SYN of flow i to port: GUE variant 0,
 * steer's data (exception, from node CB_ORIGIN), IPv4, TCP. Its length. */
static size_t cb_datagram(uint8_t *dg, uint32_t i, uint16_t port)
{
	struct steer_guehdr *g = (void *)dg;
	struct steer_gue_priv *pd = (void *)(g + 1);
	struct steer_iphdr *ip = (void *)(pd + 1);
	struct steer_tcphdr *th = (void *)(ip + 1);

	memset(dg, 0, sizeof(*g) + sizeof(*pd) + 40);
	g->vch = STEER_GUE_PRIV_WORDS;
	g->proto = STEER_IPPROTO_IPIP;
	pd->magic = STEER_GUE_PRIV_MAGIC;
	pd->version = STEER_GUE_PRIV_VERSION;
	pd->flags = STEER_GUE_F_EXCEPTION;
	pd->hops = 1;
	pd->origin = htons(CB_ORIGIN);
	ip->ver_ihl = 0x45;
	ip->tot_len = htons(40);
	ip->ttl = 64;
	ip->protocol = STEER_IPPROTO_TCP;
	ip->saddr = htonl(0x0a000000u + i / 50000);
	ip->daddr = htonl(CB_VIP);
	th->source = htons((uint16_t)(1024 + i % 50000));
	th->dest = htons(port);
	th->doff_res = 5 << 4;
	th->flags = STEER_TCP_SYN;
	return sizeof(*g) + sizeof(*pd) + 40;
}

/*
 * Flows first .. first + n - 1 to port, those of cell 1's shards, into
 * cell 1: the flows it made, and *secs the time until cell 2 holds every
 * one of them (10 s at most).
 */
static uint32_t cb_pass(struct cb_bench *b, uint32_t first, uint32_t n,
			uint16_t port, double *secs)
{
	struct cell *c1 = b->d[0].cell, *c2 = b->d[1].cell;
	const struct shard_map *map = cell_shards(c1);
	uint64_t made0 = cell_stats(c1)->flows_created;
	uint32_t i, want = cell_flow_count(c2), made;
	struct flowtab *ft = cell_flowtab(c1);
	static uint8_t buf[CB_BURST][CB_DGRAM];
	uint8_t *dg[CB_BURST];
	size_t len[CB_BURST];
	unsigned k = 0, bursts = 0;
	double t0 = cb_sec();

	for (k = 0; k < CB_BURST; k++)
		dg[k] = buf[k];
	k = 0;
	for (i = first; i < first + n; i++) {
		struct pkt_meta m;
		struct parse_cfg pc = {0};
		uint8_t frame[64] __attribute__((aligned(8)));
		uint8_t *f = frame + STEER_FRAME_ALIGN_OFF;

		len[k] = cb_datagram(dg[k], i, port);
		/* Cell 1's flows only: another's would be relayed. */
		memset(f, 0, 14);
		f[12] = 0x08;
		memcpy(f + 14, dg[k] + len[k] - 40, 40);
		if (parse_packet(f, f + 54, &pc, &m) ||
		    map->cell[flowtab_shard_of(ft, &m.key)][0] != 1)
			continue;
		if (++k < CB_BURST && i + 1 < first + n)
			continue;
		cell_exception_burst(c1, dg, len, k);
		k = 0;
		/* The loops run every 128 flows, as they did when the bench
		 * handed one datagram at a time. */
		if (++bursts % 2 == 0)
			cb_run(b, 0);
	}
	if (k)
		cell_exception_burst(c1, dg, len, k);
	made = (uint32_t)(cell_stats(c1)->flows_created - made0);
	want += made;
	for (i = 0; i < 20000 && cell_flow_count(c2) < want; i++)
		cb_run(b, 0);
	*secs = cb_sec() - t0;
	return made;
}

static void cb_report(struct cb_bench *b, uint32_t made, double secs,
		      uint32_t made_m, double secs_m)
{
	struct cell *c1 = b->d[0].cell, *c2 = b->d[1].cell;
	const struct cell_stats *st = cell_stats(c1);
	uint32_t all = made + made_m ? made + made_m : 1;

	printf("cell_new_flows_per_s %.0f flows/s\n", made / secs);
	printf("cell_new_flow_ns %.1f ns/flow\n", secs * 1e9 / made);
	printf("cell_new_flows_per_s_pkt_mirroring %.0f flows/s\n",
	       made_m / secs_m);
	printf("cell_new_flow_ns_pkt_mirroring %.1f ns/flow\n",
	       secs_m * 1e9 / made_m);
	printf("cell_mirror_held %.1f %%\n",
	       100.0 * cell_flow_count(c2) / cell_flow_count(c1));
	printf("cell_repl_bytes_per_flow %.1f bytes\n",
	       (double)cell_repl_stats(c1)->bytes_tx / all);
	printf("cell_state_bytes_per_flow %.1f bytes\n",
	       (double)flowtab_memory(cell_flowtab(c1)) /
		       flowtab_capacity(cell_flowtab(c1)));
	printf("cell_flows %u flows\n", made + made_m);
	printf("cell_rules_sent %llu rules\n",
	       (unsigned long long)st->rules_tx);
	printf("cell_forwarded %llu packets\n", (unsigned long long)st->fwd);
	printf("cell_mirror_datagrams %llu datagrams\n",
	       (unsigned long long)st->mirror_tx);
}

/* --- the chain's cost ------------------------------------------------ */

/* One pass's figures. */
struct cb_fig {
	double flows_per_s;
	double cpu_ns; /* the process's CPU time (both cells) per flow */
	double bytes;  /* replication bytes cell 1 sent per flow */
};

static double cb_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Until cell 1's streams to cell 2 are drained and acked and no snapshot
 * has been framed for 100 turns in a row (10 s at most). */
static void cb_settle(struct cb_bench *b)
{
	const struct repl *r = cell_repl(b->d[0].cell);
	uint64_t snaps = repl_stats(r)->snapshots;
	int i, still = 0;

	for (i = 0; i < 20000 && still < 100; i++) {
		cb_run(b, 1);
		if (repl_stats(r)->snapshots != snaps || repl_pending(r, 2) ||
		    repl_stats(r)->lag) {
			snaps = repl_stats(r)->snapshots;
			still = 0;
		} else {
			still++;
		}
	}
}

/* Both daemons reload a cluster file whose replication-chain is on or
 * off; the snapshots the change brings are done before it returns. */
static int cb_chain_set(struct cb_bench *b, bool on)
{
	const char *line =
		on ? "replication-chain on\n" : "replication-chain off\n";
	int i;

	for (i = 0; i < 2; i++)
		if (cb_config(b, i + 1, line) || steerd_reload(&b->d[i])) {
			fprintf(stderr, "steer-cell-bench: reload %d: %s\n",
				i + 1, b->d[i].last_error);
			return -1;
		}
	for (i = 0; i < 2; i++)
		if (repl_chain_on(cell_repl(b->d[i].cell)) != on) {
			fprintf(stderr,
				"steer-cell-bench: the chain did not "
				"turn %s\n",
				on ? "on" : "off");
			return -1;
		}
	cb_settle(b);
	return 0;
}

static int cb_fig_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

static double cb_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cb_fig_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Passes of port 80 with the chain off and on, off on on off per round
 * (flows from first on, n offered per pass), then the figures.
 */
static int cb_chain_cost(struct cb_bench *b, uint32_t first, uint32_t n,
			 int rounds)
{
	static const bool order[4] = {false, true, true, false};
	double fps[2][2 * CB_ROUNDS_MAX], cpu[2][2 * CB_ROUNDS_MAX],
		bytes[2][2 * CB_ROUNDS_MAX], med[2][3];
	const struct repl_stats *rs = cell_repl_stats(b->d[0].cell);
	uint64_t links0 = rs->chain_links_tx, links_rx0, breaks = 0;
	const struct repl_stats *rs2 = cell_repl_stats(b->d[1].cell);
	int k[2] = {0, 0}, i, j;
	bool cur = repl_chain_on(cell_repl(b->d[0].cell));

	links_rx0 = rs2->chain_links_rx;
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < 4; j++) {
			bool on = order[j];
			uint64_t bytes0;
			uint32_t made;
			double secs, c0;

			if (on != cur || (!i && !j)) {
				if (cb_chain_set(b, on))
					return -1;
				cur = on;
			}
			bytes0 = rs->bytes_tx;
			c0 = cb_cpu_s();
			made = cb_pass(b, first, n, 80, &secs);
			first += n;
			if (!made)
				return -1;
			fps[on][k[on]] = made / secs;
			cpu[on][k[on]] = (cb_cpu_s() - c0) * 1e9 / made;
			bytes[on][k[on]] =
				(double)(rs->bytes_tx - bytes0) / made;
			k[on]++;
		}
	}
	for (i = 0; i < 2; i++) {
		med[i][0] = cb_median(fps[i], k[i]);
		med[i][1] = cb_median(cpu[i], k[i]);
		med[i][2] = cb_median(bytes[i], k[i]);
	}
	for (i = REPL_CHAIN_GAP; i < REPL_CHAIN_REASONS; i++)
		breaks += rs2->chain_breaks[i];
	printf("chain_off_new_flows_per_s %.0f flows/s\n", med[0][0]);
	printf("chain_on_new_flows_per_s %.0f flows/s\n", med[1][0]);
	printf("chain_flows_ratio %.3f on/off\n", med[1][0] / med[0][0]);
	printf("chain_off_cpu_ns_per_flow %.0f ns/flow\n", med[0][1]);
	printf("chain_on_cpu_ns_per_flow %.0f ns/flow\n", med[1][1]);
	printf("chain_cpu_ns_per_flow %.0f ns/flow\n", med[1][1] - med[0][1]);
	printf("chain_cpu_share %.1f %%\n",
	       100.0 * (med[1][1] - med[0][1]) / med[1][1]);
	printf("chain_off_repl_bytes_per_flow %.1f bytes\n", med[0][2]);
	printf("chain_on_repl_bytes_per_flow %.1f bytes\n", med[1][2]);
	printf("chain_bytes_per_flow %.1f bytes\n", med[1][2] - med[0][2]);
	printf("chain_links_sent %llu links\n",
	       (unsigned long long)(rs->chain_links_tx - links0));
	printf("chain_links_checked %llu links\n",
	       (unsigned long long)(rs2->chain_links_rx - links_rx0));
	printf("chain_breaks %llu breaks\n", (unsigned long long)breaks);
	printf("chain_passes %d per setting\n", k[0]);
	return 0;
}

int main(int argc, char **argv)
{
	static struct cb_bench b;
	uint32_t n = 50000, made, made_m;
	double secs, secs_m;
	int c, rc = 1, rounds = 2;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		if (c == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	if (rounds < 0 || rounds > CB_ROUNDS_MAX) {
		fprintf(stderr, "steer-cell-bench: -r 0..%d\n", CB_ROUNDS_MAX);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "steer-cell-bench: needs root (a network "
				"namespace, BPF maps)\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	if (cb_start(&b) || cb_wait_cells(&b))
		goto out;
	made = cb_pass(&b, 0, n, 80, &secs);
	made_m = cb_pass(&b, n, n, 81, &secs_m);
	if (!made || !made_m) {
		fprintf(stderr, "steer-cell-bench: no flow was made\n");
		goto out;
	}
	cb_report(&b, made, secs, made_m, secs_m);
	rc = 0;
	if (rounds && cb_chain_cost(&b, 2 * n, n, rounds))
		rc = 1;
out:
	cb_stop(&b);
	return rc;
}
