// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerd --config FILE [--foreground] [--log-level L] [--pid-file PATH]
 *        [--check]
 *
 * Exit status: 0 after a clean stop (SIGINT, SIGTERM) or a good --check;
 * 2 for a usage or config error (the message names FILE:LINE); 1 when
 * the daemon could not get a resource (socket, memory) or its loop
 * failed.
 *
 * Without --foreground steerd detaches (fork, setsid, stdin and stdout on
 * /dev/null) once its config has been read and its socket is listening,
 * so the starting command's status says whether it came up. Logs stay on
 * stderr, wherever the starter pointed it, stamped with the time unless
 * that is journald (which stamps them itself).
 *
 * Once it serves, steerd drops the capabilities it no longer needs
 * (privs.h), writes its PID file if asked (pidfile.h), and tells a
 * service manager that it is ready (service.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "daemon/pidfile.h"
#include "daemon/privs.h"
#include "daemon/service.h"
#include "daemon/steerd.h"
#include "util/log.h"

#define EXIT_CONFIG 2

struct steerd_args {
	const char *config;
	const char *pid_file;
	bool foreground;
	bool check;
	int log_level;
};

static void steerd_usage(FILE *f)
{
	fprintf(f,
		"usage: steerd --config FILE [--foreground] [--log-level L] "
		"[--pid-file PATH] [--check]\n"
		"  -c, --config FILE     steerd config (steer.conf(5))\n"
		"  -f, --foreground      do not detach\n"
		"  -l, --log-level L     error|warn|info|debug; overrides the "
		"file\n"
		"  -p, --pid-file PATH   write the PID there, refuse to start "
		"while\n"
		"                        another steerd holds it\n"
		"  -n, --check           read and build everything, then "
		"exit\n"
		"  -V, --version\n");
}

static int steerd_args_parse(int argc, char **argv, struct steerd_args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"pid-file", required_argument, NULL, 'p'},
		{"check", no_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum log_level lvl;
	int c;

	a->log_level = -1;
	while ((c = getopt_long(argc, argv, "c:fl:p:nVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'l':
			if (steerd_log_level_parse(optarg, &lvl)) {
				fprintf(stderr,
					"steerd: --log-level expects error, "
					"warn, info or debug, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			a->log_level = (int)lvl;
			break;
		case 'p':
			if (!optarg[0]) {
				fprintf(stderr,
					"steerd: --pid-file expects a path\n");
				return -EINVAL;
			}
			a->pid_file = optarg;
			break;
		case 'n':
			a->check = true;
			break;
		case 'V':
			printf("steerd %s\n", STEERD_VERSION);
			exit(0);
		case 'h':
			steerd_usage(stdout);
			exit(0);
		default:
			steerd_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "steerd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!a->config) {
		fprintf(stderr, "steerd: --config FILE is required\n");
		steerd_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int steerd_check(const struct steerd_args *a)
{
	struct steerd_world w;
	char err[512];
	int ret;

	ret = steerd_world_load(&w, a->config, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "steerd: %s\n", err);
		/* A bad file, or a key others may read: the operator's fix. */
		return ret == -EINVAL || ret == -EPERM ? EXIT_CONFIG : 1;
	}
	printf("%s: ok (cluster '%s', %u nodes, %u services)\n", a->config,
	       w.cluster.name, w.cluster.n_nodes, w.cluster.n_services);
	steerd_world_free(&w);
	return 0;
}

/*
 * Fork; the parent waits for the child to report on *ready_fd (one byte
 * once it serves) and exits with the child's status if it does not.
 * Returns in the child only.
 */
static void steerd_detach(int *ready_fd)
{
	int p[2], st, fd;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC)) {
		perror("steerd: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("steerd: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			exit(0);
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
			exit(WEXITSTATUS(st));
		exit(1);
	}
	close(p[0]);
	setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	*ready_fd = p[1];
}

/* The PID file's path made absolute: a detached steerd runs from '/'. */
static int steerd_pid_path(const char *arg, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (arg[0] == '/')
		return snprintf(out, len, "%s", arg) < (int)len ? 0
								: -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, len, "%s/%s", cwd, arg) < (int)len ? 0
								: -ENAMETOOLONG;
}

/* stderr to journald: no time stamps (journald has them), priorities. */
static void steerd_log_setup(void)
{
	bool journal = log_stderr_is_journal();

	log_set_timestamps(!journal);
	log_set_level_prefixes(journal);
}

/* Keep only the capabilities it still uses; it serves on whatever the
 * outcome, saying so. */
static void steerd_privs_drop(void)
{
	char kept[256], err[128];

	if (privs_drop(kept, sizeof(kept), err, sizeof(err)))
		log_warn("steerd", "capabilities: %s; running with all of them",
			 err);
	else if (strcmp(kept, "none"))
		log_info("steerd", "capabilities kept: %s", kept);
}

/* Serving: the parent of a detached steerd, then the service manager. */
static void steerd_ready(const struct steerd *d, int ready)
{
	const struct cluster_node *self = cluster_self(&d->world->cluster);
	char status[160];

	if (ready >= 0) {
		if (chdir("/"))
			log_warn("steerd", "chdir /: %s", strerror(errno));
		if (write(ready, "", 1) != 1)
			log_warn("steerd", "could not tell the parent: %s",
				 strerror(errno));
		close(ready);
	}
	snprintf(status, sizeof(status), "serving: cluster '%s', node '%s'",
		 d->world->cluster.name, self->ep.name);
	service_ready(status);
}

int main(int argc, char **argv)
{
	struct steerd_args a = {0};
	struct steerd_opts o = {0};
	struct pidfile pf = {.fd = -1};
	char path[PATH_MAX], pid_path[PATH_MAX], err[512];
	struct steerd d;
	int ready = -1, ret;

	if (steerd_args_parse(argc, argv, &a))
		return EXIT_CONFIG;
	if (a.log_level >= 0)
		log_set_level((enum log_level)a.log_level);
	if (a.check)
		return steerd_check(&a);
	steerd_log_setup();
	/* Detached, the working directory is '/': keep the paths whole. */
	if (!realpath(a.config, path)) {
		fprintf(stderr, "steerd: %s: %s\n", a.config, strerror(errno));
		return EXIT_CONFIG;
	}
	if (a.pid_file &&
	    (ret = steerd_pid_path(a.pid_file, pid_path, sizeof(pid_path)))) {
		fprintf(stderr, "steerd: %s: %s\n", a.pid_file, strerror(-ret));
		return EXIT_CONFIG;
	}
	if (!a.foreground)
		steerd_detach(&ready);
	/* Before the data plane: a second steerd must not take over the
	 * first one's interface. */
	if (a.pid_file && pidfile_take(&pf, pid_path, err, sizeof(err))) {
		fprintf(stderr, "steerd: %s\n", err);
		return 1;
	}
	o.config = path;
	o.log_level = a.log_level;
	o.signals = true;
	ret = steerd_init(&d, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "steerd: %s\n", err);
		pidfile_remove(&pf);
		return ret == -EINVAL ? EXIT_CONFIG : 1;
	}
	steerd_privs_drop();
	if (service_watchdog_start(d.el) < 0)
		log_warn("steerd", "watchdog: out of memory, no pings");
	steerd_ready(&d, ready);
	ret = steerd_run(&d);
	service_stopping();
	steerd_fini(&d);
	pidfile_remove(&pf);
	if (ret) {
		log_err("steerd", "event loop: %s", strerror(-ret));
		return 1;
	}
	log_info("steerd", "stopped");
	return 0;
}
