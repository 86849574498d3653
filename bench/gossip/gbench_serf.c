// SPDX-License-Identifier: GPL-2.0-only
/*
 * serf agents for steer-gossip-bench (gb_sys_serf): one `serf agent`
 * process per node, LAN profile (memberlist's LAN defaults), on
 * 127.0.2.(i + 1):7946 with its RPC on :7373, started by fork and exec,
 * killed by PID.
 *
 * When an agent learns something is read from two places:
 *
 *   - its log, read through a pipe and stamped when each line arrives:
 *     "serf: EventMemberJoin: g3", "serf: EventMemberFailed: g2" (logged
 *     the moment memberlist tells serf) and "agent: Received event:
 *     user-event: ann1" (logged when the agent's event loop receives it,
 *     before it runs handlers); "agent: joining:" marks a join's start.
 *     These are the figures compared with steer's.
 *   - its event handlers (member-join, member-failed, user:annN): a
 *     script appends "<ns> <agent> <event> <subject>" to a file. The
 *     agent coalesces member events (1 s of quiet, 3 s at most: serf's
 *     agent sets CoalescePeriod and QuiescentPeriod) and forks a shell
 *     per event, so these figures are what an application hears, later.
 *
 * A session announce's analogue is a user event, `serf event
 * -coalesce=false annN <44-byte payload>` (a steer session update is 44
 * bytes). Bytes come from the nftables counters serf_udp and serf_tcp of
 * the table named in gb_serf_opts (bench/gossip/compare.sh makes them):
 * memberlist gossips over UDP and syncs state over TCP.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gbench.h"

struct gb_serf_opts gb_serf_opts = {.serf = "serf", .ann_trials = 7};

#define GBF_MAX_CLI 64

struct gbf_agent {
	pid_t pid;
	int out_fd; /* its stdout and stderr */
	int log_fd; /* a copy of them, with --keep */
	size_t len;
	char line[2048];
};

struct gbf {
	struct gbf_agent a[GB_MAXN];
	pid_t cli[GBF_MAX_CLI];
	char dir[64];
	char handler[128];
	char events[128];
	off_t ev_off;
	char ev_part[256];
	size_t ev_part_len;
	int64_t rt_minus_mono; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
};

/* Appends when the agent ran it, its name, the event and its subject. */
static const char gbf_handler_text[] =
	"#!/bin/bash\n"
	"# steer-gossip-bench: what this serf agent heard, and when.\n"
	"t=${EPOCHREALTIME/./}000\n"
	"if [ \"$SERF_EVENT\" = user ]; then\n"
	"\techo \"$t $SERF_SELF_NAME user $SERF_USER_EVENT\" >>\"$GB_EVENTS\"\n"
	"else\n"
	"\twhile read -r name _; do\n"
	"\t\techo \"$t $SERF_SELF_NAME $SERF_EVENT $name\" >>\"$GB_EVENTS\"\n"
	"\tdone\n"
	"fi\n";

static int64_t gbf_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int gbf_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static struct gbf *gbf_get(struct gb_run *r)
{
	struct gbf *s = r->priv;
	const char *tmp;
	uint32_t i;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (i = 0; i < GB_MAXN; i++)
		s->a[i].out_fd = s->a[i].log_fd = -1;
	tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s/steer-gbench-serf.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		free(s);
		return NULL;
	}
	snprintf(s->handler, sizeof(s->handler), "%s/handler.sh", s->dir);
	snprintf(s->events, sizeof(s->events), "%s/events", s->dir);
	if (gbf_write_file(s->handler, gbf_handler_text, 0755) ||
	    gbf_write_file(s->events, "", 0644)) {
		rmdir(s->dir);
		free(s);
		return NULL;
	}
	s->rt_minus_mono = gbf_realtime_ns() - gb_now_ns();
	r->has_handlers = true;
	r->priv = s;
	return s;
}

/*
 * fork and exec argv with stdout and stderr to out (or /dev/null when
 * out < 0); the child dies with us. Returns its pid or -errno.
 */
static pid_t gbf_spawn(char *const argv[], int out, const char *events)
{
	pid_t parent = getpid(), pid;
	int null;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	null = open("/dev/null", O_RDWR);
	if (null < 0)
		_exit(127);
	dup2(null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(out >= 0 ? out : null, 2);
	if (events)
		setenv("GB_EVENTS", events, 1);
	/* EPOCHREALTIME's decimal point, whatever the locale. */
	setenv("LC_ALL", "C", 1);
	execvp(argv[0], argv);
	_exit(127);
}

static int gbf_start(struct gb_run *r, uint32_t i)
{
	struct gbf *s = gbf_get(r);
	char node[32], bind[48], rpc[48], join[48], h[GB_ANN_MAX + 2][200];
	char path[192];
	char *argv[12 + GB_ANN_MAX + 2 + 1];
	uint32_t k = 0, t, trials = gb_serf_opts.ann_trials;
	int p[2];
	pid_t pid;

	if (!s)
		return -ENOMEM;
	if (trials > GB_ANN_MAX)
		trials = GB_ANN_MAX;
	snprintf(node, sizeof(node), "-node=g%u", i);
	snprintf(bind, sizeof(bind), "-bind=" GB_SERF_NET "%u:7946", i + 1);
	snprintf(rpc, sizeof(rpc), "-rpc-addr=" GB_SERF_NET "%u:7373", i + 1);
	snprintf(join, sizeof(join), "-join=" GB_SERF_NET "1:7946");
	argv[k++] = (char *)gb_serf_opts.serf;
	argv[k++] = "agent";
	argv[k++] = node;
	argv[k++] = bind;
	argv[k++] = rpc;
	if (i)
		argv[k++] = join;
	argv[k++] = "-log-level=info";
	snprintf(h[0], sizeof(h[0]), "-event-handler=member-join=%s",
		 s->handler);
	snprintf(h[1], sizeof(h[1]), "-event-handler=member-failed=%s",
		 s->handler);
	argv[k++] = h[0];
	argv[k++] = h[1];
	for (t = 1; t <= trials; t++) {
		snprintf(h[t + 1], sizeof(h[t + 1]),
			 "-event-handler=user:ann%u=%s", t, s->handler);
		argv[k++] = h[t + 1];
	}
	argv[k] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = gbf_spawn(argv, p[1], s->events);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return (int)pid;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->a[i].pid = pid;
	s->a[i].out_fd = p[0];
	s->a[i].len = 0;
	if (gb_serf_opts.keep && s->a[i].log_fd < 0) {
		snprintf(path, sizeof(path), "%s/g%u.log", s->dir, i);
		s->a[i].log_fd = open(
			path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	}
	return 0;
}

/* "g12 ..." -> 12; -1 for another name. */
static int gbf_name_idx(const char *p)
{
	char *end;
	long v;

	if (*p != 'g')
		return -1;
	v = strtol(p + 1, &end, 10);
	if (end == p + 1 || v < 0 || v >= GB_MAXN ||
	    (*end && *end != ' ' && *end != '\n'))
		return -1;
	return (int)v;
}

static void gbf_log_line(struct gb_run *r, uint32_t i, const char *line,
			 int64_t t)
{
	static const char join[] = "serf: EventMemberJoin: ";
	static const char failed[] = "serf: EventMemberFailed: ";
	static const char user[] = "agent: Received event: user-event: ann";
	const char *p;
	int subj;

	if ((p = strstr(line, join))) {
		subj = gbf_name_idx(p + sizeof(join) - 1);
		if (subj >= 0)
			gb_record(r, GB_EV_JOIN, i, (uint32_t)subj, t);
	} else if ((p = strstr(line, failed))) {
		subj = gbf_name_idx(p + sizeof(failed) - 1);
		if (subj >= 0)
			gb_record(r, GB_EV_DEAD, i, (uint32_t)subj, t);
	} else if ((p = strstr(line, user))) {
		gb_record(r, GB_EV_ANN, i, (uint32_t)atoi(p + sizeof(user) - 1),
			  t);
	} else if (strstr(line, "agent: joining: ")) {
		gb_record(r, GB_EV_JOIN0, i, 0, t);
	}
}

/* Read what agent i wrote; every complete line gets the read's stamp. */
static void gbf_read_agent(struct gb_run *r, struct gbf_agent *a, uint32_t i)
{
	char buf[8192];
	int64_t t;
	ssize_t n;
	ssize_t k;

	n = read(a->out_fd, buf, sizeof(buf));
	t = gb_now_ns();
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(a->out_fd);
		a->out_fd = -1;
		return;
	}
	if (n < 0)
		return;
	if (a->log_fd >= 0 && write(a->log_fd, buf, (size_t)n) < 0) {
		close(a->log_fd);
		a->log_fd = -1;
	}
	for (k = 0; k < n; k++) {
		if (buf[k] != '\n') {
			if (a->len < sizeof(a->line) - 1)
				a->line[a->len++] = buf[k];
			continue;
		}
		a->line[a->len] = 0;
		gbf_log_line(r, i, a->line, t);
		a->len = 0;
	}
}

static void gbf_handler_line(struct gb_run *r, struct gbf *s, char *line)
{
	char name[32], ev[32], subj[32];
	long long t;
	int obs, sub;

	if (sscanf(line, "%lld %31s %31s %31s", &t, name, ev, subj) != 4)
		return;
	obs = gbf_name_idx(name);
	if (obs < 0)
		return;
	t -= s->rt_minus_mono;
	if (!strcmp(ev, "user") && !strncmp(subj, "ann", 3)) {
		gb_record_handler(r, GB_EV_ANN, (uint32_t)obs,
				  (uint32_t)atoi(subj + 3), t);
		return;
	}
	sub = gbf_name_idx(subj);
	if (sub < 0)
		return;
	if (!strcmp(ev, "member-join"))
		gb_record_handler(r, GB_EV_JOIN, (uint32_t)obs, (uint32_t)sub,
				  t);
	else if (!strcmp(ev, "member-failed"))
		gb_record_handler(r, GB_EV_DEAD, (uint32_t)obs, (uint32_t)sub,
				  t);
}

/* New lines of the handlers' file since the last call. */
static void gbf_read_events(struct gb_run *r, struct gbf *s)
{
	char buf[8192];
	struct stat st;
	ssize_t n, k;
	int fd;

	if (stat(s->events, &st) || st.st_size <= s->ev_off)
		return;
	fd = open(s->events, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), s->ev_off)) > 0) {
		s->ev_off += n;
		for (k = 0; k < n; k++) {
			if (buf[k] != '\n') {
				if (s->ev_part_len < sizeof(s->ev_part) - 1)
					s->ev_part[s->ev_part_len++] = buf[k];
				continue;
			}
			s->ev_part[s->ev_part_len] = 0;
			gbf_handler_line(r, s, s->ev_part);
			s->ev_part_len = 0;
		}
	}
	close(fd);
}

static void gbf_reap(struct gb_run *r, struct gbf *s)
{
	uint32_t i;
	int st;

	for (i = 0; i < GBF_MAX_CLI; i++)
		if (s->cli[i] > 0 && waitpid(s->cli[i], &st, WNOHANG) > 0)
			s->cli[i] = 0;
	for (i = 0; i < r->n; i++) {
		if (!r->up[i] || s->a[i].pid <= 0 ||
		    waitpid(s->a[i].pid, &st, WNOHANG) <= 0)
			continue;
		fprintf(stderr,
			"gossip-bench: serf agent g%u (pid %d) exited by "
			"itself (status 0x%x); --keep keeps its log\n",
			i, (int)s->a[i].pid, (unsigned)st);
		s->a[i].pid = 0;
		r->up[i] = false;
	}
}

static void gbf_pump(struct gb_run *r, int timeout_ms)
{
	struct gbf *s = r->priv;
	struct pollfd pfd[GB_MAXN];
	uint32_t i, k = 0, map[GB_MAXN];

	for (i = 0; i < GB_MAXN; i++) {
		if (s->a[i].out_fd < 0)
			continue;
		pfd[k].fd = s->a[i].out_fd;
		pfd[k].events = POLLIN;
		map[k++] = i;
	}
	if (poll(pfd, k, timeout_ms) > 0)
		for (i = 0; i < k; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP))
				gbf_read_agent(r, &s->a[map[i]], map[i]);
	gbf_read_events(r, s);
	gbf_reap(r, s);
}

static int gbf_announce(struct gb_run *r, uint32_t origin, uint32_t seq)
{
	struct gbf *s = r->priv;
	char rpc[48], name[32], payload[48];
	char *argv[] = {(char *)gb_serf_opts.serf,
			"event",
			rpc,
			"-coalesce=false",
			name,
			payload,
			NULL};
	uint32_t i;
	pid_t pid;

	for (i = 0; i < GBF_MAX_CLI && s->cli[i] > 0; i++)
		;
	if (i == GBF_MAX_CLI)
		return -EBUSY;
	snprintf(rpc, sizeof(rpc), "-rpc-addr=" GB_SERF_NET "%u:7373",
		 origin + 1);
	if (seq < GB_SEQ_UPDATES)
		snprintf(name, sizeof(name), "ann%u", seq);
	else
		snprintf(name, sizeof(name), "upd");
	/* As long as a steer session update: 44 bytes. */
	snprintf(payload, sizeof(payload), "%044u", seq);
	pid = gbf_spawn(argv, -1, NULL);
	if (pid < 0)
		return (int)pid;
	s->cli[i] = pid;
	return 0;
}

static int gbf_crash(struct gb_run *r, uint32_t i)
{
	struct gbf *s = r->priv;

	if (s->a[i].pid <= 0)
		return -ESRCH;
	if (kill(s->a[i].pid, SIGKILL))
		return -errno;
	waitpid(s->a[i].pid, NULL, 0);
	s->a[i].pid = 0;
	return 0;
}

static int gbf_bytes(struct gb_run *r, struct gb_bytes *out)
{
	struct gb_bytes udp, tcp;
	const char *t = gb_serf_opts.nft_table;

	(void)r;
	if (!t || gb_nft_counter(t, "serf_udp", &udp) ||
	    gb_nft_counter(t, "serf_tcp", &tcp))
		return -ENOTSUP;
	out->bytes = udp.bytes + tcp.bytes;
	out->pkts = udp.pkts + tcp.pkts;
	return 0;
}

/* Every agent and CLI we started, by PID; the work directory unless
 * kept. */
static void gbf_stop(struct gb_run *r)
{
	struct gbf *s = r->priv;
	char path[192];
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < GB_MAXN; i++) {
		snprintf(path, sizeof(path), "%s/g%u.log", s->dir, i);
		if (!gb_serf_opts.keep)
			unlink(path);
		if (s->a[i].pid > 0) {
			kill(s->a[i].pid, SIGKILL);
			waitpid(s->a[i].pid, NULL, 0);
		}
		if (s->a[i].out_fd >= 0)
			close(s->a[i].out_fd);
		if (s->a[i].log_fd >= 0)
			close(s->a[i].log_fd);
	}
	for (i = 0; i < GBF_MAX_CLI; i++) {
		if (s->cli[i] > 0) {
			kill(s->cli[i], SIGKILL);
			waitpid(s->cli[i], NULL, 0);
		}
	}
	if (gb_serf_opts.keep) {
		fprintf(stderr,
			"gossip-bench: serf logs and handler events kept in "
			"%s\n",
			s->dir);
	} else {
		unlink(s->handler);
		unlink(s->events);
		rmdir(s->dir);
	}
	free(s);
	r->priv = NULL;
}

const struct gb_sys gb_sys_serf = {
	.name = "serf",
	.start = gbf_start,
	.announce = gbf_announce,
	.crash = gbf_crash,
	.pump = gbf_pump,
	.bytes = gbf_bytes,
	.stop = gbf_stop,
};
