// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerd --config FILE [--foreground] [--log-level L] [--check]
 *
 * Exit status: 0 after a clean stop (SIGINT, SIGTERM) or a good --check;
 * 2 for a usage or config error (the message names FILE:LINE); 1 when
 * the daemon could not get a resource (socket, memory) or its loop
 * failed.
 *
 * Without --foreground steerd detaches (fork, setsid, stdin and stdout on
 * /dev/null) once its config has been read and its socket is listening,
 * so the starting command's status says whether it came up. Logs stay on
 * stderr, wherever the starter pointed it.
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

#include "daemon/steerd.h"
#include "util/log.h"

#define EXIT_CONFIG 2

struct steerd_args {
	const char *config;
	bool foreground;
	bool check;
	int log_level;
};

static void steerd_usage(FILE *f)
{
	fprintf(f,
		"usage: steerd --config FILE [--foreground] [--log-level L] "
		"[--check]\n"
		"  -c, --config FILE     steerd config (see steerd_conf.h)\n"
		"  -f, --foreground      do not detach\n"
		"  -l, --log-level L     error|warn|info|debug; overrides the "
		"file\n"
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
		{"check", no_argument, NULL, 'n'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum log_level lvl;
	int c;

	a->log_level = -1;
	while ((c = getopt_long(argc, argv, "c:fl:nVh", opts, NULL)) != -1) {
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

int main(int argc, char **argv)
{
	struct steerd_args a = {0};
	struct steerd_opts o = {0};
	char path[PATH_MAX], err[512];
	struct steerd d;
	int ready = -1, ret;

	if (steerd_args_parse(argc, argv, &a))
		return EXIT_CONFIG;
	if (a.log_level >= 0)
		log_set_level((enum log_level)a.log_level);
	if (a.check)
		return steerd_check(&a);
	/* journald stamps the lines it takes itself. */
	log_set_timestamps(!getenv("JOURNAL_STREAM"));
	/* Detached, the working directory is '/': keep the path whole. */
	if (!realpath(a.config, path)) {
		fprintf(stderr, "steerd: %s: %s\n", a.config, strerror(errno));
		return EXIT_CONFIG;
	}
	if (!a.foreground)
		steerd_detach(&ready);
	o.config = path;
	o.log_level = a.log_level;
	o.signals = true;
	ret = steerd_init(&d, &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "steerd: %s\n", err);
		return ret == -EINVAL ? EXIT_CONFIG : 1;
	}
	if (ready >= 0) {
		if (chdir("/"))
			log_warn("steerd", "chdir /: %s", strerror(errno));
		if (write(ready, "", 1) != 1)
			log_warn("steerd", "could not tell the parent: %s",
				 strerror(errno));
		close(ready);
	}
	ret = steerd_run(&d);
	steerd_fini(&d);
	if (ret) {
		log_err("steerd", "event loop: %s", strerror(-ret));
		return 1;
	}
	log_info("steerd", "stopped");
	return 0;
}
