// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-pktgen: benchmark (b), packets per second through one host (the
 * DUT), in the namespace topology bench/lab/pps.sh builds:
 *
 *   sb-gen              sb-dut                            sb-sink
 *  +-----------+      +-------------------------------+   +-------------+
 *  | sb-g0     |------| sb-di    [variant]      sb-do |---| sb-s0       |
 *  | pktgen_tx |      | 198.18.10.254    198.18.11.254|   | pktgen_sink |
 *  +-----------+      +-------------------------------+   +-------------+
 *   UDP 198.18.10.1:1024+i -> 198.18.11.1:9, 60-byte frames, i < --flows
 *
 * Variants, in turn on sb-di, the rest of the topology unchanged:
 *   drop      pktgen_drop: XDP_DROP. Nothing forwarded: the floor, what a
 *             veth receive and a drop cost the DUT's CPU.
 *   steer     steer's XDP program (bpf/steer_xdp.bpf.c): every generated
 *             flow STEER to node 2 (the sink), GUE0 template from sb-do to
 *             the sink, cfg.tx_ifindex = sb-do: encapsulate + bpf_redirect
 *   redirect  pktgen_fwd: Ethernet addresses rewritten + bpf_redirect to
 *             sb-do: the redirect steer does, without steer's work
 *   kernel    pktgen_pass (XDP_PASS, for NAPI) and the kernel's own IP
 *             forwarding (ip_forward=1, permanent neighbour for the sink)
 *
 * Who runs what (2 CPUs). CPU --gen-cpu: the generator, a thread of this
 * tool looping on BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES:
 * pktgen_tx writes each frame, XDP_TX puts it into sb-di's ring. CPU
 * --dut-cpu: the DUT, sb-di's NAPI thread (pps.sh turns threaded NAPI on
 * for sb-di), SCHED_FIFO like the softirq it stands for: it takes frames
 * off the ring, runs the variant and puts the result into sb-s0's ring.
 * sb-s0's NAPI is not threaded: its softirq runs on the CPU that fills the
 * ring, right after each DUT poll, in the DUT thread. So the DUT's CPU
 * also does the sink's receive (one veth receive and drop per frame, the
 * drop variant's work), but nobody pays a cross-CPU wake-up per batch: a
 * sink thread on the generator's CPU cost ~270 ns a frame in wake-ups and
 * left the generator too little CPU to keep the DUT busy.
 *
 * Closed loop (--window, default PG_WINDOW): the generator keeps at most
 * that many frames between itself and the end of their path, waiting
 * for the sink (or pktgen_drop) to end some before it sends more. The
 * window is below the 256 slots of sb-di's ring, so nothing is refused
 * there (tx = rx, no loss), and above the 64 frames of a NAPI poll, so
 * the DUT finds a full batch at every poll while the generator runs:
 * rx is the DUT's zero-loss forwarding rate. --window 0 is the open loop
 * (offered load above capacity, the excess refused by sb-di's ring); its
 * figures are not the DUT's: the generator's CPU returns every refused
 * frame to its page pool through the ring lock the DUT's CPU takes for
 * every frame it ends, and that contention (paravirt spinlocks) cost the
 * DUT up to twice its forwarding work, differently in every run.
 * --batch sets BPF_PROG_TEST_RUN's batch, which also sizes the ring of
 * the generator's page pool (default 64, as the kernel's).
 *
 * The generator is SCHED_OTHER (--gen-rt: SCHED_FIFO, on a machine of
 * one's own; it then takes its CPU whole), so on a shared machine it runs
 * only part of the time, the DUT idles meanwhile, and rx follows its
 * share (gen_busy, dut_busy). dut_cost, the DUT CPU's time per frame (its
 * NAPI thread and ksoftirqd, which takes over softirq work that runs
 * long), does not: frames arrive in full batches whenever the DUT runs.
 * dut_cap = 1e3 / dut_cost is the rate of a DUT CPU busy all the time.
 * alone_cost = dut_cost - the drop variant's dut_cost estimates the DUT's
 * cost without the sink's receive: the sink receiving a redirected frame
 * does the drop floor's work (the kernel variant hands the sink skbs,
 * which cost it more, so its alone_cost is too high).
 *
 * Figures, `name value unit`, per variant v the median over --runs (each
 * run measures every variant, in turn, so drift hits each alike):
 *   lab_pps_<v>_rx            frames the sink received (drop: the DUT
 *                             dropped), per second
 *   lab_pps_<v>_tx            frames the generator sent (offered load)
 *   lab_pps_<v>_loss          1 - rx / tx
 *   lab_pps_<v>_loss_dut_in   of tx, refused by sb-di's full ring
 *   lab_pps_<v>_loss_sink_in  of what the DUT took, refused by sb-s0's
 *   lab_pps_<v>_dut_busy      DUT CPU time / elapsed
 *   lab_pps_<v>_dut_cost      DUT CPU time per frame through
 *   lab_pps_<v>_dut_cap       1e3 / dut_cost
 *   lab_pps_<v>_alone_cost    dut_cost - drop's dut_cost (not for drop)
 *   lab_pps_<v>_gen_busy      generator CPU time / elapsed
 * and from each run's own variants (the median of per-run values):
 *   lab_pps_ratio_steer_{redirect,kernel}        rx / rx
 *   lab_pps_cap_ratio_steer_{redirect,kernel}    dut_cap / dut_cap
 *   lab_pps_alone_ratio_steer_{redirect,kernel}  alone_cost^-1 ratios
 *   lab_pps_cost_steer_minus_redirect            dut_cost difference
 * Per-run lines are comments (`# ...`). Never passes or fails on time;
 * exits 1 when a run did not measure what it meant to (frames of the
 * wrong kind at the sink, steer not steering every frame, an error), 77
 * without root, 2 for bad arguments.
 *
 *   steer-pktgen [--flows N] [--seconds S] [--warmup S] [--runs K]
 *                [--gen-cpu C] [--dut-cpu C] [--gen-rt] [--no-rt]
 *                [--window N] [--batch N]
 *                [--variants drop,steer,redirect,kernel]
 *                [--gen NS/IF] [--dut NS/IN/OUT] [--sink NS/IF]
 *                [--src A] [--dst A] [--dut-addr A]
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <steer/flow.h>
#include <steer/gue.h>
#include <steer/hdr.h>
#include <steer/parse.h>
#include <steer/tmpl.h>

#include "core/tmpl_build.h"
#include "steer_kern_user.h"
#include "steer_pktgen.skel.h"
#include "steer_pktgen_kern_user.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

#define PG_RUNS_MAX 15
#define PG_FLOWS_MAX 65536 /* the source ports of one address pair */
#define PG_SPORT_BASE 1024
#define PG_DPORT 9 /* discard */
#define PG_SELF_ID 1
#define PG_OWNER_ID 2 /* the node the sink stands for */
/* Frames per generator syscall: a bound, not a count; the thread is
 * stopped by a signal long before (20 s at 5 Mpps). */
#define PG_GEN_REPEAT (100u * 1000 * 1000)
#define PG_PRIO 1 /* SCHED_FIFO: the lowest is ahead of every CFS task */
/* Frames in flight at most (flow control): below a veth ring's 256 slots,
 * above the 64 of a NAPI poll, so the DUT finds a full batch each time. */
#define PG_WINDOW 192

enum pg_variant { PG_DROP = 0, PG_STEER, PG_REDIRECT, PG_KERNEL, PG_NVAR };
static const char *const pg_variant_name[PG_NVAR] = {"drop", "steer",
						     "redirect", "kernel"};

struct pg_if {
	char ns[64];
	char name[IF_NAMESIZE];
	int nsfd;
	int ifindex;
	uint8_t mac[6];
};

/* Interface counters as rtnetlink reports them (32-bit, compared mod 2^32). */
struct pg_ifstats {
	uint32_t rx_packets;
	uint32_t tx_dropped;
};

/* Counters at the start and at the end of a measurement window. */
struct pg_snap {
	double t;
	uint64_t sent;	  /* frames pktgen_tx wrote */
	uint64_t stalls;  /* times the window was written off as lost */
	uint64_t dropped; /* frames pktgen_drop ended */
	uint64_t dut_ns;  /* CPU time of the DUT: NAPI thread + ksoftirqd */
	uint64_t gen_ns;  /* CPU time of the generator thread */
	struct pg_ifstats gen, din, dout;
	struct pktgen_sink_cnt sink;
	struct steer_xdp_stats steer;
};

struct pg_result {
	double secs;
	uint64_t sent;
	uint64_t rx;	     /* frames through: at the sink (drop: DUT took) */
	uint64_t wrong;	     /* sink frames of another kind than expected */
	uint64_t sink_bytes; /* their lengths at the sink, all kinds */
	uint64_t dut_rx, in_drop, out_drop, stalls;
	double dut_busy, dut_cost, gen_busy;
};

struct pg {
	struct pg_if gen, din, dout, sink;
	int self_nsfd;
	struct in_addr src, dst, dut_addr;
	uint32_t flows, runs, batch, window;
	double seconds, warmup;
	int gen_cpu, dut_cpu;
	int prio_gen, prio_dut; /* SCHED_FIFO priority, 0: SCHED_OTHER */
	int variant_on[PG_NVAR];
	int ncpu;
	uint8_t frame[PKTGEN_FRAME_LEN];
	struct steer_pktgen_bpf *skel;
	struct xdp_prog *x;
	struct bpf_link *sink_link, *dut_link;
	int steer_attached;
	pid_t dut_tid, softirqd_tid, gen_tid;
	pthread_t gen_thread;
	volatile int gen_stop;
	int gen_running, gen_err;
	struct pg_result res[PG_RUNS_MAX][PG_NVAR];
};

static volatile sig_atomic_t pg_stop;
static int pg_bad; /* a check failed: exit 1 after printing */

static void pg_on_signal(int sig)
{
	(void)sig;
	pg_stop = 1;
}

static void pg_on_usr1(int sig)
{
	(void)sig; /* only to interrupt the generator's syscall */
}

static double pg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pg_fig(const char *name, double v, int prec, const char *unit)
{
	printf("%s %.*f %s\n", name, prec, v, unit);
	fflush(stdout);
}

/* ---- namespaces and interfaces ---- */

/* Enter the network namespace of fd (this thread only); 0 or -errno. */
static int pg_ns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}

/*
 * "NS/IF" into i (one interface), or "NS/IN/OUT" into i and o. 0 or
 * -EINVAL for a malformed or too long name.
 */
static int pg_if_parse(const char *arg, struct pg_if *i, struct pg_if *o)
{
	char buf[160], *a, *b, *c;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -EINVAL;
	a = buf;
	b = strchr(a, '/');
	if (!b)
		return -EINVAL;
	*b++ = '\0';
	c = strchr(b, '/');
	if (!o != !c)
		return -EINVAL;
	if (c)
		*c++ = '\0';
	if (!*a || !*b || strlen(a) >= sizeof(i->ns) ||
	    strlen(b) >= sizeof(i->name))
		return -EINVAL;
	snprintf(i->ns, sizeof(i->ns), "%s", a);
	snprintf(i->name, sizeof(i->name), "%s", b);
	if (o) {
		if (!*c || strlen(c) >= sizeof(o->name))
			return -EINVAL;
		snprintf(o->ns, sizeof(o->ns), "%s", a);
		snprintf(o->name, sizeof(o->name), "%s", c);
	}
	return 0;
}

/* Open i's namespace (/run/netns/NS), find its index and MAC there. */
static int pg_if_resolve(struct pg_if *i)
{
	char path[128];
	struct ifreq ifr;
	int s, err;

	snprintf(path, sizeof(path), "/run/netns/%s", i->ns);
	i->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (i->nsfd < 0) {
		err = -errno;
		fprintf(stderr, "steer-pktgen: namespace %s: %s\n", i->ns,
			strerror(-err));
		return err;
	}
	err = pg_ns_enter(i->nsfd);
	if (err)
		return err;
	i->ifindex = (int)if_nametoindex(i->name);
	if (!i->ifindex) {
		fprintf(stderr, "steer-pktgen: no %s in %s\n", i->name, i->ns);
		return -ENODEV;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->name);
	err = ioctl(s, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(s);
	if (!err)
		memcpy(i->mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

/*
 * i's counters, read in its namespace. A veth counts there what its
 * peer's ring refused: tx_dropped of the sender includes the frames its
 * XDP_TX or redirect could not put into the peer's ring.
 */
static int pg_if_stats(const struct pg_if *i, struct pg_ifstats *st)
{
	struct ifaddrs *ifa, *a;
	int err = pg_ns_enter(i->nsfd);

	if (err)
		return err;
	if (getifaddrs(&ifa))
		return -errno;
	err = -ENODEV;
	for (a = ifa; a; a = a->ifa_next) {
		const struct rtnl_link_stats *ls = a->ifa_data;

		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_PACKET ||
		    !ls || strcmp(a->ifa_name, i->name))
			continue;
		st->rx_packets = ls->rx_packets;
		st->tx_dropped = ls->tx_dropped;
		err = 0;
		break;
	}
	freeifaddrs(ifa);
	return err;
}

/* ---- threads ---- */

/*
 * The kernel thread whose name starts with prefix (names are cut to 15
 * characters): its pid, waiting up to wait_ms for it to appear. -ENOENT
 * when there is none, -EEXIST when two match.
 */
static pid_t pg_kthread_find(const char *prefix, int wait_ms)
{
	size_t plen = strlen(prefix) > 15 ? 15 : strlen(prefix);
	char path[64], comm[32];
	int waited = 0;

	for (;;) {
		struct dirent *de;
		pid_t found = 0;
		DIR *d = opendir("/proc");

		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			FILE *f;

			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm",
				 de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fgets(comm, sizeof(comm), f) &&
			    !strncmp(comm, prefix, plen)) {
				if (found) {
					fclose(f);
					closedir(d);
					return -EEXIST;
				}
				found = (pid_t)atoi(de->d_name);
			}
			fclose(f);
		}
		closedir(d);
		if (found)
			return found;
		if (waited >= wait_ms)
			return -ENOENT;
		usleep(10000);
		waited += 10;
	}
}

/* The NAPI thread of interface name: "napi/<name>-<napi id>". */
static pid_t pg_napi_thread(const char *name, int wait_ms)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "napi/%s-", name);
	return pg_kthread_find(prefix, wait_ms);
}

/* Pin tid to cpu, SCHED_FIFO at prio, SCHED_OTHER for 0. 0 or -errno. */
static int pg_thread_place(pid_t tid, int cpu, int prio)
{
	struct sched_param sp = {.sched_priority = prio};
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(tid, sizeof(set), &set))
		return -errno;
	if (sched_setscheduler(tid, prio ? SCHED_FIFO : SCHED_OTHER, &sp))
		return -errno;
	return 0;
}

/* CPU time tid has run, in ns (/proc/<tid>/schedstat); 0 if unknown. */
static uint64_t pg_thread_ns(pid_t tid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	if (tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* ---- the BPF side ---- */

static uint16_t pg_csum16(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Generator -> sb-di: IPv4 + UDP to PG_DPORT, UDP checksum 0, the source
 * port left to the program, the IPv4 checksum right (the kernel variant
 * checks it; no variant changes a field it covers but the TTL). */
static void pg_frame_build(struct pg *p)
{
	struct steer_ethhdr eth;
	struct steer_iphdr ip = {
		.ver_ihl = 0x45,
		.tot_len = steer_htons(PKTGEN_FRAME_LEN - sizeof(eth)),
		.ttl = 64,
		.protocol = STEER_IPPROTO_UDP,
		.saddr = p->src.s_addr,
		.daddr = p->dst.s_addr,
	};
	struct steer_udphdr uh = {
		.dest = steer_htons(PG_DPORT),
		.len = steer_htons(PKTGEN_FRAME_LEN - sizeof(eth) - sizeof(ip)),
	};
	uint8_t *f = p->frame;

	memcpy(eth.dst, p->din.mac, 6);
	memcpy(eth.src, p->gen.mac, 6);
	eth.proto = steer_htons(STEER_ETH_P_IP);
	ip.check = steer_htons(pg_csum16(&ip, sizeof(ip)));
	memset(f, 0x5a, PKTGEN_FRAME_LEN);
	memcpy(f, &eth, sizeof(eth));
	memcpy(f + sizeof(eth), &ip, sizeof(ip));
	memcpy(f + sizeof(eth) + sizeof(ip), &uh, sizeof(uh));
}

static int pg_skel_load(struct pg *p)
{
	struct steer_pktgen_bpf *s;
	uint8_t mac[12];
	int err;

	s = steer_pktgen_bpf__open();
	if (!s)
		return -errno;
	p->skel = s;
	memcpy((void *)s->rodata->pg_frame, p->frame, PKTGEN_FRAME_LEN);
	s->rodata->pg_nflows = p->flows;
	s->rodata->pg_window = p->window;
	s->rodata->pg_sport_base = PG_SPORT_BASE;
	s->rodata->pg_gue_port = STEER_GUE_PORT;
	s->rodata->pg_plain_port = PG_DPORT;
	memcpy(mac, p->sink.mac, 6);
	memcpy(mac + 6, p->dout.mac, 6);
	memcpy((void *)s->rodata->pg_fwd_mac, mac, sizeof(mac));
	s->rodata->pg_fwd_ifindex = (uint32_t)p->dout.ifindex;
	err = steer_pktgen_bpf__load(s);
	if (err)
		fprintf(stderr,
			"steer-pktgen: cannot load the BPF programs: "
			"%s\n",
			strerror(-err));
	return err;
}

/*
 * steer's program, configured as a node (id 1) that owns none of the
 * generated flows: each is STEERed to node 2, whose template leads from
 * sb-do to the sink; the result leaves by a redirect to sb-do.
 */
static int pg_steer_setup(struct pg *p)
{
	struct steer_xdp_cfg cfg;
	struct tmpl_spec ts = {.kind = STEER_TMPL_GUE0,
			       .dport = steer_htons(STEER_GUE_PORT),
			       .origin = PG_SELF_ID};
	struct steer_tmpl t;
	uint32_t i;
	int err;

	p->x = xdp_prog_open(NULL);
	if (!p->x)
		return -errno;
	memset(&cfg, 0, sizeof(cfg));
	flow_addr_set_v4(&cfg.self_addr, p->dut_addr.s_addr);
	cfg.secret.k0 = 0x0123456789abcdefULL;
	cfg.secret.k1 = 0xfedcba9876543210ULL;
	cfg.mtu = 1500;
	cfg.tx_ifindex = (uint32_t)p->dout.ifindex;
	cfg.self_id = PG_SELF_ID;
	cfg.gue_port = steer_htons(STEER_GUE_PORT);
	cfg.max_encap = STEER_MAX_ENCAP;
	err = xdp_maps_cfg_set(p->x, &cfg);
	if (err)
		return err;
	memcpy(ts.src_mac, p->dout.mac, 6);
	memcpy(ts.dst_mac, p->sink.mac, 6);
	flow_addr_set_v4(&ts.saddr, p->dut_addr.s_addr);
	flow_addr_set_v4(&ts.daddr, p->dst.s_addr);
	err = tmpl_build(&t, &ts);
	if (!err)
		err = xdp_maps_tmpl_set(p->x, PG_OWNER_ID, &t);
	if (err)
		return err;
	for (i = 0; i < p->flows; i++) {
		struct flow_key k;

		memset(&k, 0, sizeof(k));
		flow_addr_set_v4(&k.src, p->src.s_addr);
		flow_addr_set_v4(&k.dst, p->dst.s_addr);
		k.sport = steer_htons((uint16_t)(PG_SPORT_BASE + i));
		k.dport = steer_htons(PG_DPORT);
		k.proto = STEER_IPPROTO_UDP;
		err = xdp_maps_flow_set(p->x, &k, PG_OWNER_ID, 1);
		if (err)
			return err;
	}
	return 0;
}

static int pg_sink_read(struct pg *p, struct pktgen_sink_cnt *sum)
{
	struct pktgen_sink_cnt *per;
	uint32_t zero = 0;
	int c, err = 0;

	per = calloc((size_t)p->ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map__lookup_elem(p->skel->maps.pg_sink_cnt, &zero, sizeof(zero),
				 per, (size_t)p->ncpu * sizeof(*per), 0))
		err = -errno;
	memset(sum, 0, sizeof(*sum));
	for (c = 0; !err && c < p->ncpu; c++) {
		sum->pkts += per[c].pkts;
		sum->bytes += per[c].bytes;
		sum->gue += per[c].gue;
		sum->plain += per[c].plain;
	}
	free(per);
	return err;
}

static int pg_drop_read(struct pg *p, uint64_t *sum)
{
	uint64_t per[CPU_SETSIZE];
	uint32_t zero = 0;
	int c;

	if (p->ncpu > CPU_SETSIZE)
		return -E2BIG;
	if (bpf_map__lookup_elem(p->skel->maps.pg_drop_cnt, &zero, sizeof(zero),
				 per, (size_t)p->ncpu * sizeof(*per), 0))
		return -errno;
	for (*sum = 0, c = 0; c < p->ncpu; c++)
		*sum += per[c];
	return 0;
}

/*
 * The sink's counter on sb-s0 for the whole session. Its NAPI must not be
 * threaded: its softirq is to run on the DUT's CPU (see the top).
 */
static int pg_sink_attach(struct pg *p)
{
	int err = pg_ns_enter(p->sink.nsfd);

	if (err)
		return err;
	p->sink_link = bpf_program__attach_xdp(p->skel->progs.pktgen_sink,
					       p->sink.ifindex);
	if (!p->sink_link) {
		err = -errno;
		fprintf(stderr,
			"steer-pktgen: %s: cannot attach the sink: %s\n",
			p->sink.name, strerror(-err));
		return err;
	}
	if (pg_napi_thread(p->sink.name, 100) > 0) {
		fprintf(stderr,
			"steer-pktgen: %s runs threaded NAPI: its receive "
			"would not run on the DUT's CPU (echo 0 > "
			"/sys/class/net/%s/threaded in %s)\n",
			p->sink.name, p->sink.name, p->sink.ns);
		return -EINVAL;
	}
	return 0;
}

static int pg_dut_attach(struct pg *p, enum pg_variant v)
{
	struct bpf_program *prog;
	int err = pg_ns_enter(p->din.nsfd);

	if (err)
		return err;
	switch (v) {
	case PG_DROP:
		prog = p->skel->progs.pktgen_drop;
		break;
	case PG_REDIRECT:
		prog = p->skel->progs.pktgen_fwd;
		break;
	case PG_KERNEL:
		prog = p->skel->progs.pktgen_pass;
		break;
	default:
		prog = NULL;
	}
	if (prog) {
		p->dut_link = bpf_program__attach_xdp(prog, p->din.ifindex);
		if (!p->dut_link)
			return -errno;
	} else {
		err = xdp_prog_attach(p->x, p->din.ifindex);
		if (err)
			return err;
		p->steer_attached = 1;
		if (xdp_prog_is_generic(p->x)) {
			fprintf(stderr,
				"steer-pktgen: %s: steer runs in "
				"generic mode, not native\n",
				p->din.name);
			return -EOPNOTSUPP;
		}
	}
	/* A new program means a new NAPI instance and thread. */
	p->dut_tid = pg_napi_thread(p->din.name, 1000);
	if (p->dut_tid < 0) {
		err = p->dut_tid;
		p->dut_tid = 0;
		fprintf(stderr,
			"steer-pktgen: no NAPI thread for %s (%s): set "
			"/sys/class/net/%s/threaded to 1 in %s, as "
			"bench/lab/pps.sh does\n",
			p->din.name, strerror(-err), p->din.name, p->din.ns);
		return err;
	}
	return pg_thread_place(p->dut_tid, p->dut_cpu, p->prio_dut);
}

/* Whatever runs on sb-di off; its NAPI thread goes with it. */
static void pg_dut_detach(struct pg *p)
{
	if (pg_ns_enter(p->din.nsfd))
		return;
	if (p->steer_attached) {
		xdp_prog_detach(p->x);
		p->steer_attached = 0;
	}
	bpf_link__destroy(p->dut_link);
	p->dut_link = NULL;
	p->dut_tid = 0;
}

/* ---- the generator ---- */

/*
 * The generator thread: BPF_PROG_TEST_RUN calls of PG_GEN_REPEAT frames
 * on sb-g0 until pg_gen_stop() signals it. Each call costs ~16 ms of
 * set-up and tear-down (page pool, RCU) during which nothing is sent, so
 * calls are long and a measurement window lies inside one, between two
 * readings of the frames pktgen_tx counted (pg_sent).
 */
static void *pg_gen_main(void *arg)
{
	struct pg *p = arg;
	struct xdp_md md = {.data_end = PKTGEN_FRAME_LEN,
			    .ingress_ifindex = (uint32_t)p->gen.ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame,
		    .data_size_in = PKTGEN_FRAME_LEN, .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = PG_GEN_REPEAT,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = p->batch);
	int fd = bpf_program__fd(p->skel->progs.pktgen_tx), err;

	p->gen_tid = (pid_t)syscall(SYS_gettid);
	err = pg_ns_enter(p->gen.nsfd);
	if (!err)
		err = pg_thread_place(p->gen_tid, p->gen_cpu, p->prio_gen);
	while (!err && !p->gen_stop && !pg_stop)
		if (bpf_prog_test_run_opts(fd, &o) && errno != EINTR)
			err = -errno;
	p->gen_err = err;
	return NULL;
}

static int pg_gen_start(struct pg *p)
{
	sigset_t set, old;
	int err;

	p->gen_stop = 0;
	p->gen_err = 0;
	p->gen_tid = 0;
	/* Frames out when the last variant went away are lost: a clean
	 * window for the next. */
	p->skel->bss->pg_forgiven =
		(int64_t)(p->skel->bss->pg_sent - p->skel->data_done->pg_done);
	/* Only SIGUSR1 for the generator: SIGINT and SIGTERM go to main. */
	sigfillset(&set);
	sigdelset(&set, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, &set, &old);
	err = pthread_create(&p->gen_thread, NULL, pg_gen_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	p->gen_running = 1;
	return 0;
}

/*
 * Stop the generator: signal it until it leaves its syscall (at most
 * 30 s; a syscall ends after PG_GEN_REPEAT frames anyway). Its error, or
 * -ETIMEDOUT (the thread then ends with the process).
 */
static int pg_gen_stop(struct pg *p)
{
	struct timespec ts;
	int tries;

	if (!p->gen_running)
		return 0;
	p->gen_stop = 1;
	for (tries = 0;; tries++) {
		if (tries == 1500) {
			fprintf(stderr, "steer-pktgen: the generator does not "
					"stop\n");
			p->gen_running = 0;
			return -ETIMEDOUT;
		}
		pthread_kill(p->gen_thread, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!pthread_timedjoin_np(p->gen_thread, NULL, &ts))
			break;
	}
	p->gen_running = 0;
	return p->gen_err;
}

/* ---- measuring ---- */

/*
 * Counters at one instant of a window: the quick ones (time, frames sent,
 * the sink's, the threads' CPU time) together first, then the interfaces'
 * (a netlink dump in each namespace) and steer's.
 */
static int pg_snap_take(struct pg *p, int steer, struct pg_snap *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->t = pg_now();
	s->sent = p->skel->bss->pg_sent;
	s->stalls = p->skel->bss->pg_stalls;
	err = pg_sink_read(p, &s->sink);
	if (!err)
		err = pg_drop_read(p, &s->dropped);
	s->dut_ns = pg_thread_ns(p->dut_tid) + pg_thread_ns(p->softirqd_tid);
	s->gen_ns = pg_thread_ns(p->gen_tid);
	if (!err)
		err = pg_if_stats(&p->gen, &s->gen);
	if (!err)
		err = pg_if_stats(&p->din, &s->din);
	if (!err)
		err = pg_if_stats(&p->dout, &s->dout);
	if (!err && steer)
		err = xdp_maps_stats_read(p->x, &s->steer);
	return err;
}

/* What steer's counters say about the window: every frame steered. */
static void pg_steer_check(const struct pg_snap *a, const struct pg_snap *b,
			   int run)
{
	uint64_t rx = b->steer.rx_packets - a->steer.rx_packets;
	uint64_t st = b->steer.action[STEER_ACT_STEER] -
		      a->steer.action[STEER_ACT_STEER];
	uint64_t drops = 0;
	int i;

	for (i = 0; i < STEER_DROP__MAX; i++)
		drops += b->steer.drop[i] - a->steer.drop[i];
	/* The two counters are read one after the other, not at once. */
	if (rx > st + 512 || st > rx + 512 || drops || !st) {
		fprintf(stderr,
			"steer-pktgen: run %d: steer saw %llu frames, steered "
			"%llu, dropped %llu\n",
			run, (unsigned long long)rx, (unsigned long long)st,
			(unsigned long long)drops);
		pg_bad = 1;
	}
}

static void pg_result_fill(struct pg_result *r, enum pg_variant v,
			   const struct pg_snap *a, const struct pg_snap *b)
{
	uint64_t pkts = b->sink.pkts - a->sink.pkts;

	r->secs = b->t - a->t;
	r->sent = b->sent - a->sent;
	r->stalls = b->stalls - a->stalls;
	r->dut_rx = (uint32_t)(b->din.rx_packets - a->din.rx_packets);
	switch (v) {
	case PG_DROP:
		r->rx = b->dropped - a->dropped;
		r->wrong = pkts;
		break;
	case PG_STEER:
		r->rx = b->sink.gue - a->sink.gue;
		r->wrong = pkts - r->rx;
		break;
	default:
		r->rx = b->sink.plain - a->sink.plain;
		r->wrong = pkts - r->rx;
	}
	r->sink_bytes = b->sink.bytes - a->sink.bytes;
	r->in_drop = (uint32_t)(b->gen.tx_dropped - a->gen.tx_dropped);
	r->out_drop = (uint32_t)(b->dout.tx_dropped - a->dout.tx_dropped);
	r->dut_busy = (double)(b->dut_ns - a->dut_ns) / (r->secs * 1e9);
	/* Per frame through, counted with the CPU time (not dut_rx, read
	 * later): a frame the DUT took but lost would count in nothing. */
	r->dut_cost =
		r->rx ? (double)(b->dut_ns - a->dut_ns) / (double)r->rx : 0;
	r->gen_busy = (double)(b->gen_ns - a->gen_ns) / (r->secs * 1e9);
}

/* Sleep s seconds, or less when a signal asks to stop. */
static void pg_sleep(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (!pg_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void pg_result_print(const struct pg_result *r, enum pg_variant v,
			    int run)
{
	uint64_t at_sink = r->rx + r->wrong;

	printf("# run %d %-8s tx %.3f  rx %.3f  dut took %.3f Mpps  in-drop "
	       "%.1f%%  sink-drop %.2f%%  dut %.0f%% busy, %.1f ns/pkt  gen "
	       "%.0f%% busy  window stalls %llu  sink frames %.0f B\n",
	       run, pg_variant_name[v], (double)r->sent / r->secs / 1e6,
	       (double)r->rx / r->secs / 1e6, (double)r->dut_rx / r->secs / 1e6,
	       r->sent ? 100.0 * (double)r->in_drop / (double)r->sent : 0,
	       r->dut_rx ? 100.0 * (double)r->out_drop / (double)r->dut_rx : 0,
	       100 * r->dut_busy, r->dut_cost, 100 * r->gen_busy,
	       (unsigned long long)r->stalls,
	       at_sink ? (double)r->sink_bytes / (double)at_sink : 0);
	fflush(stdout);
}

/*
 * One measurement of variant v: attach it, start the generator, let it
 * warm up (caches, the neighbour entry, threads on their CPUs), take the
 * window in the steady state, stop, detach. 0 or -errno (-EINTR when
 * asked to stop); a result that is not what it should be sets pg_bad.
 */
static int pg_measure(struct pg *p, enum pg_variant v, int run,
		      struct pg_result *r)
{
	struct pg_snap a, b;
	int err, gerr;

	memset(r, 0, sizeof(*r));
	err = pg_dut_attach(p, v);
	if (!err)
		err = pg_gen_start(p);
	if (!err) {
		pg_sleep(p->warmup);
		err = pg_snap_take(p, v == PG_STEER, &a);
	}
	if (!err) {
		pg_sleep(p->seconds);
		err = pg_snap_take(p, v == PG_STEER, &b);
	}
	gerr = pg_gen_stop(p);
	if (!err)
		err = gerr;
	if (!err && pg_stop)
		err = -EINTR;
	if (!err) {
		pg_result_fill(r, v, &a, &b);
		if (v == PG_STEER)
			pg_steer_check(&a, &b, run);
		if (r->wrong > r->rx / 1000 || !r->rx) {
			fprintf(stderr,
				"steer-pktgen: run %d %s: %llu frames through, "
				"%llu of another kind at the sink\n",
				run, pg_variant_name[v],
				(unsigned long long)r->rx,
				(unsigned long long)r->wrong);
			pg_bad = 1;
		}
		pg_result_print(r, v, run);
	}
	pg_dut_detach(p);
	if (err)
		fprintf(stderr, "steer-pktgen: run %d %s: %s\n", run,
			pg_variant_name[v], strerror(-err));
	return err;
}

/* ---- report ---- */

static int pg_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pg_median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), pg_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum pg_what {
	PG_W_RX,
	PG_W_TX,
	PG_W_LOSS,
	PG_W_LOSS_IN,
	PG_W_LOSS_OUT,
	PG_W_DUT_BUSY,
	PG_W_DUT_COST,
	PG_W_DUT_CAP,
	PG_W_ALONE_COST,
	PG_W_GEN_BUSY,
};

/* Figure w of variant v in run r; alone_cost needs the run's drop. */
static double pg_value(const struct pg *p, uint32_t r, int v, enum pg_what w)
{
	const struct pg_result *x = &p->res[r][v];

	switch (w) {
	case PG_W_RX:
		return (double)x->rx / x->secs / 1e6;
	case PG_W_TX:
		return (double)x->sent / x->secs / 1e6;
	case PG_W_LOSS:
		return x->sent ? 100.0 * (1.0 - (double)x->rx / (double)x->sent)
			       : 0;
	case PG_W_LOSS_IN:
		return x->sent ? 100.0 * (double)x->in_drop / (double)x->sent
			       : 0;
	case PG_W_LOSS_OUT:
		return x->dut_rx
			       ? 100.0 * (double)x->out_drop / (double)x->dut_rx
			       : 0;
	case PG_W_DUT_BUSY:
		return 100 * x->dut_busy;
	case PG_W_DUT_COST:
		return x->dut_cost;
	case PG_W_DUT_CAP:
		return x->dut_cost > 0 ? 1e3 / x->dut_cost : 0;
	case PG_W_ALONE_COST:
		return x->dut_cost - p->res[r][PG_DROP].dut_cost;
	case PG_W_GEN_BUSY:
		return 100 * x->gen_busy;
	}
	return 0;
}

/* The median over runs of a / b, figures wa and wb of variants va, vb. */
static double pg_ratio(const struct pg *p, int va, enum pg_what wa, int vb,
		       enum pg_what wb)
{
	double v[PG_RUNS_MAX];
	uint32_t r;

	for (r = 0; r < p->runs; r++) {
		double d = pg_value(p, r, vb, wb);

		v[r] = d > 0 ? pg_value(p, r, va, wa) / d : 0;
	}
	return pg_median(v, p->runs);
}

static void pg_report(const struct pg *p)
{
	static const struct {
		enum pg_what w;
		const char *name, *unit;
		int prec;
	} figs[] = {
		{PG_W_RX, "rx", "Mpps", 3},
		{PG_W_TX, "tx", "Mpps", 3},
		{PG_W_LOSS, "loss", "%", 1},
		{PG_W_LOSS_IN, "loss_dut_in", "%", 1},
		{PG_W_LOSS_OUT, "loss_sink_in", "%", 2},
		{PG_W_DUT_BUSY, "dut_busy", "%", 0},
		{PG_W_DUT_COST, "dut_cost", "ns/pkt", 1},
		{PG_W_DUT_CAP, "dut_cap", "Mpps", 3},
		{PG_W_ALONE_COST, "alone_cost", "ns/pkt", 1},
		{PG_W_GEN_BUSY, "gen_busy", "%", 0},
	};
	double v[PG_RUNS_MAX];
	int drop = p->variant_on[PG_DROP];
	char name[96];
	uint32_t r;
	size_t f;
	int k;

	for (k = 0; k < PG_NVAR; k++) {
		if (!p->variant_on[k])
			continue;
		for (f = 0; f < sizeof(figs) / sizeof(figs[0]); f++) {
			if (figs[f].w == PG_W_ALONE_COST && (!drop || !k))
				continue;
			for (r = 0; r < p->runs; r++)
				v[r] = pg_value(p, r, k, figs[f].w);
			snprintf(name, sizeof(name), "lab_pps_%s_%s",
				 pg_variant_name[k], figs[f].name);
			pg_fig(name, pg_median(v, p->runs), figs[f].prec,
			       figs[f].unit);
		}
	}
	if (!p->variant_on[PG_STEER])
		return;
	for (k = PG_REDIRECT; k < PG_NVAR; k++) {
		if (!p->variant_on[k])
			continue;
		snprintf(name, sizeof(name), "lab_pps_ratio_steer_%s",
			 pg_variant_name[k]);
		pg_fig(name, pg_ratio(p, PG_STEER, PG_W_RX, k, PG_W_RX), 3,
		       "x");
		snprintf(name, sizeof(name), "lab_pps_cap_ratio_steer_%s",
			 pg_variant_name[k]);
		pg_fig(name,
		       pg_ratio(p, k, PG_W_DUT_COST, PG_STEER, PG_W_DUT_COST),
		       3, "x");
		if (!drop)
			continue;
		snprintf(name, sizeof(name), "lab_pps_alone_ratio_steer_%s",
			 pg_variant_name[k]);
		pg_fig(name,
		       pg_ratio(p, k, PG_W_ALONE_COST, PG_STEER,
				PG_W_ALONE_COST),
		       3, "x");
	}
	if (p->variant_on[PG_REDIRECT]) {
		for (r = 0; r < p->runs; r++)
			v[r] = p->res[r][PG_STEER].dut_cost -
			       p->res[r][PG_REDIRECT].dut_cost;
		pg_fig("lab_pps_cost_steer_minus_redirect",
		       pg_median(v, p->runs), 1, "ns/pkt");
	}
}

static void pg_header(const struct pg *p)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], vars[64] = "";
	int k;

	inet_ntop(AF_INET, &p->src, src, sizeof(src));
	inet_ntop(AF_INET, &p->dst, dst, sizeof(dst));
	for (k = 0; k < PG_NVAR; k++)
		if (p->variant_on[k])
			snprintf(vars + strlen(vars),
				 sizeof(vars) - strlen(vars), "%s%s",
				 vars[0] ? "," : "", pg_variant_name[k]);
	printf("# steer-pktgen: benchmark (b), pps through one host (DUT), "
	       "variants %s\n",
	       vars);
	printf("# %s/%s -> %s/%s [DUT] %s -> %s/%s: %u flows, UDP "
	       "%s:%u..%u -> %s:%u, %d-byte frames\n",
	       p->gen.ns, p->gen.name, p->din.ns, p->din.name, p->dout.name,
	       p->sink.ns, p->sink.name, p->flows, src, PG_SPORT_BASE,
	       PG_SPORT_BASE + p->flows - 1, dst, PG_DPORT, PKTGEN_FRAME_LEN);
	printf("# CPU %d: the generator, a thread of steer-pktgen (%s): "
	       "BPF_PROG_TEST_RUN live frames, XDP_TX into %s's ring\n",
	       p->gen_cpu, p->prio_gen ? "SCHED_FIFO" : "SCHED_OTHER",
	       p->din.name);
	printf("# CPU %d: the DUT, %s's NAPI thread (%s): its ring -> the "
	       "variant -> %s's ring, then %s's receive (softirq, same "
	       "thread)\n",
	       p->dut_cpu, p->din.name,
	       p->prio_dut ? "SCHED_FIFO" : "SCHED_OTHER", p->sink.name,
	       p->sink.name);
	if (p->window)
		printf("# closed loop: at most %u frames in flight, so %s's ring "
		       "never overflows and the DUT always finds a full batch; "
		       "rx = zero-loss rate while the generator runs, so it "
		       "follows gen_busy\n",
		       p->window, p->din.name);
	else
		printf("# open loop: offered load above the DUT's capacity, the "
		       "excess refused by %s's ring (loss_dut_in); costs include "
		       "page-pool lock contention with the generator\n",
		       p->din.name);
	printf("# dut_cost = DUT CPU ns per frame, the sink's receive "
	       "included; dut_cap = 1e3 / dut_cost, the rate of a DUT CPU "
	       "busy all the time\n");
	printf("# alone_cost = dut_cost - drop's dut_cost (the sink's "
	       "receive taken out, an estimate)\n");
	printf("# %u run(s) x %.1f s per variant (+ %.1f s warm-up), "
	       "variants in turn within a run, figures are medians over "
	       "runs\n",
	       p->runs, p->seconds, p->warmup);
	fflush(stdout);
}

/* ---- main ---- */

static void pg_usage(void)
{
	fprintf(stderr,
		"usage: steer-pktgen [--flows N] [--seconds S] [--warmup S] "
		"[--runs K]\n"
		"         [--gen-cpu C] [--dut-cpu C] [--gen-rt] [--no-rt]\n"
		"         [--window N] [--batch N]\n"
		"         [--variants drop,steer,redirect,kernel]\n"
		"         [--gen NS/IF] [--dut NS/IN/OUT] [--sink NS/IF]\n"
		"         [--src A] [--dst A] [--dut-addr A]\n");
}

static int pg_variants_parse(struct pg *p, const char *arg)
{
	char buf[128], *tok, *save = NULL;
	int k, n = 0;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -EINVAL;
	memset(p->variant_on, 0, sizeof(p->variant_on));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < PG_NVAR; k++)
			if (!strcmp(tok, pg_variant_name[k]))
				break;
		if (k == PG_NVAR)
			return -EINVAL;
		p->variant_on[k] = 1;
		n++;
	}
	return n ? 0 : -EINVAL;
}

static int pg_args(int argc, char **argv, struct pg *p)
{
	static const struct option opts[] = {
		{"flows", required_argument, NULL, 'f'},
		{"seconds", required_argument, NULL, 's'},
		{"warmup", required_argument, NULL, 'w'},
		{"runs", required_argument, NULL, 'r'},
		{"gen-cpu", required_argument, NULL, 'G'},
		{"dut-cpu", required_argument, NULL, 'D'},
		{"gen-rt", no_argument, NULL, 'R'},
		{"no-rt", no_argument, NULL, 'n'},
		{"variants", required_argument, NULL, 'v'},
		{"gen", required_argument, NULL, 'g'},
		{"dut", required_argument, NULL, 'd'},
		{"sink", required_argument, NULL, 'k'},
		{"src", required_argument, NULL, 'S'},
		{"dst", required_argument, NULL, 'T'},
		{"dut-addr", required_argument, NULL, 'A'},
		{"batch", required_argument, NULL, 'B'},
		{"window", required_argument, NULL, 'W'},
		{NULL, 0, NULL, 0},
	};
	int c, k, bad = 0;

	p->flows = 2048;
	p->seconds = 3;
	p->warmup = 0.5;
	p->runs = 3;
	p->batch = 64;
	p->window = PG_WINDOW;
	p->gen_cpu = 0;
	p->dut_cpu = 1;
	p->prio_gen = 0;
	p->prio_dut = PG_PRIO;
	for (k = 0; k < PG_NVAR; k++)
		p->variant_on[k] = 1;
	pg_if_parse("sb-gen/sb-g0", &p->gen, NULL);
	pg_if_parse("sb-dut/sb-di/sb-do", &p->din, &p->dout);
	pg_if_parse("sb-sink/sb-s0", &p->sink, NULL);
	inet_pton(AF_INET, "198.18.10.1", &p->src);
	inet_pton(AF_INET, "198.18.11.1", &p->dst);
	inet_pton(AF_INET, "198.18.11.254", &p->dut_addr);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			p->flows = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			p->seconds = strtod(optarg, NULL);
			break;
		case 'w':
			p->warmup = strtod(optarg, NULL);
			break;
		case 'r':
			p->runs = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'G':
			p->gen_cpu = atoi(optarg);
			break;
		case 'D':
			p->dut_cpu = atoi(optarg);
			break;
		case 'R':
			p->prio_gen = PG_PRIO;
			break;
		case 'n':
			p->prio_dut = 0;
			break;
		case 'v':
			bad |= pg_variants_parse(p, optarg) != 0;
			break;
		case 'g':
			bad |= pg_if_parse(optarg, &p->gen, NULL) != 0;
			break;
		case 'd':
			bad |= pg_if_parse(optarg, &p->din, &p->dout) != 0;
			break;
		case 'k':
			bad |= pg_if_parse(optarg, &p->sink, NULL) != 0;
			break;
		case 'S':
			bad |= inet_pton(AF_INET, optarg, &p->src) != 1;
			break;
		case 'T':
			bad |= inet_pton(AF_INET, optarg, &p->dst) != 1;
			break;
		case 'B':
			p->batch = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'W':
			p->window = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'A':
			bad |= inet_pton(AF_INET, optarg, &p->dut_addr) != 1;
			break;
		default:
			bad = 1;
		}
	}
	if (bad || optind != argc) {
		pg_usage();
		return -EINVAL;
	}
	if (p->window >= 256 || p->batch > 256) {
		fprintf(stderr, "steer-pktgen: --window 0..255 (a veth ring "
				"has 256 slots), --batch 0..256\n");
		return -EINVAL;
	}
	if (!p->flows || p->flows > PG_FLOWS_MAX - PG_SPORT_BASE ||
	    !(p->seconds >= 0.1 && p->seconds <= 60) ||
	    !(p->warmup >= 0.1 && p->warmup <= 10) || !p->runs ||
	    p->runs > PG_RUNS_MAX || p->gen_cpu < 0 || p->dut_cpu < 0 ||
	    p->gen_cpu >= CPU_SETSIZE || p->dut_cpu >= CPU_SETSIZE ||
	    p->gen_cpu == p->dut_cpu) {
		fprintf(stderr,
			"steer-pktgen: --flows 1..%d, --seconds "
			"0.1..60, --warmup 0.1..10, --runs 1..%d, two "
			"different CPUs\n",
			PG_FLOWS_MAX - PG_SPORT_BASE, PG_RUNS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int pg_setup(struct pg *p)
{
	char name[32];
	int err;

	p->self_nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (p->self_nsfd < 0)
		return -errno;
	p->ncpu = libbpf_num_possible_cpus();
	if (p->ncpu <= 0)
		return p->ncpu ? p->ncpu : -EINVAL;
	/* Never on the DUT's CPU, where it would wait behind the DUT. */
	err = pg_thread_place(0, p->gen_cpu, 0);
	if (err)
		return err;
	/* Softirq work that runs long moves to ksoftirqd: the DUT's too. */
	snprintf(name, sizeof(name), "ksoftirqd/%d", p->dut_cpu);
	p->softirqd_tid = pg_kthread_find(name, 0);
	if (p->softirqd_tid < 0)
		p->softirqd_tid = 0;
	err = pg_if_resolve(&p->gen);
	if (!err)
		err = pg_if_resolve(&p->din);
	if (!err)
		err = pg_if_resolve(&p->dout);
	if (!err)
		err = pg_if_resolve(&p->sink);
	if (err)
		return err;
	pg_frame_build(p);
	err = pg_skel_load(p);
	if (!err && p->variant_on[PG_STEER])
		err = pg_steer_setup(p);
	if (!err)
		err = pg_sink_attach(p);
	return err;
}

static void pg_teardown(struct pg *p)
{
	pg_gen_stop(p);
	pg_dut_detach(p);
	bpf_link__destroy(p->sink_link);
	if (p->din.nsfd > 0 && !pg_ns_enter(p->din.nsfd))
		xdp_prog_close(p->x);
	steer_pktgen_bpf__destroy(p->skel);
	if (p->self_nsfd > 0)
		pg_ns_enter(p->self_nsfd);
}

int main(int argc, char **argv)
{
	static struct pg p;
	struct sigaction sa;
	uint32_t r;
	int k, err;

	if (pg_args(argc, argv, &p))
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "steer-pktgen: needs root\n");
		return 77;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pg_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = pg_on_usr1; /* no SA_RESTART: the syscall ends */
	sigaction(SIGUSR1, &sa, NULL);
	log_set_level(LOG_WARN);
	err = pg_setup(&p);
	if (err) {
		fprintf(stderr, "steer-pktgen: set-up failed: %s\n",
			strerror(-err));
		pg_teardown(&p);
		return 1;
	}
	pg_header(&p);
	for (r = 0; r < p.runs && !err; r++)
		for (k = 0; k < PG_NVAR && !err; k++)
			if (p.variant_on[k])
				err = pg_measure(&p, (enum pg_variant)k,
						 (int)r + 1, &p.res[r][k]);
	if (!err)
		pg_report(&p);
	pg_teardown(&p);
	if (err) {
		fprintf(stderr, "steer-pktgen: stopped before the end\n");
		return 1;
	}
	if (pg_bad) {
		fprintf(stderr, "steer-pktgen: checks failed, the figures "
				"above are not to be trusted\n");
		return 1;
	}
	return 0;
}
