// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerctl [-s|--socket PATH] [-j|--json] [-p|--pretty] [-t|--timeout S]
 *          [-a|--all] COMMAND [ARGS...]
 * steerctl -V|--version
 * steerctl help [COMMAND]
 *
 * Asks steerd one question on its admin socket (src/daemon/admin.h) and
 * prints the answer: as JSON with -j (the daemon's "result", one line)
 * or -p (the same, indented by four spaces), else as text (see render.h).
 * The answer is read with jansson and written again by it
 * (render_json()): what the daemon writes comes out as it came, but for
 * a real past 1e6, which reads 1234570.0 where the daemon wrote
 * 1.23457e6. Commands steerctl does not know are passed to the daemon as
 * they are, so a newer steerd's commands work with an older steerctl.
 *
 * Exit status: 0 when the daemon answered ok (and for --version, whether
 * the daemon answers or not); 1 when it answered an error other than a
 * usage error, or could not be asked (not running, timed out, a malformed
 * answer, an output error); 2 for a usage error wherever it is caught:
 * steerctl's options and arguments (including one that cannot travel in
 * a one-line request), or the daemon's answer marked "usage":true (an
 * unknown command, a wrong number of words, a malformed word; admin.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/conn.h"
#include "ctl/render.h"
#include "util/version.h"

#define CTL_SOCKET_DEFAULT "/run/steer/steerd.sock" /* steerd_conf.h */
#define CTL_SOCKET_ENV "STEER_SOCKET"
#define CTL_TIMEOUT_MS_DEFAULT 5000
#define CTL_TIMEOUT_S_MAX 86400
/* ADMIN_REQ_MAX (admin.h) counts the newline. */
#define CTL_REQ_MAX (1024 - 1)
/* An answer is at most ADMIN_OUT_MAX (admin.h) with its newline. */
#define CTL_ANSWER_MAX ((64u << 20) - 1)

#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

struct ctl {
	const char *socket;
	int timeout_ms;
	bool json, pretty, all, version;
};

struct ctl_cmd;

/*
 * A command: argv[0] is its name, argv[1..argc) its arguments, already
 * within the table's bounds. Returns 0, -EINVAL for a usage error (the
 * message printed), or another -errno after printing why.
 */
typedef int (*ctl_cmd_fn)(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
			  char **argv);

struct ctl_cmd {
	const char *name;
	ctl_cmd_fn fn;
	const char *help;
	const char *args; /* usage after the name; "" for none */
	int min_args, max_args;
};

static int cmd_generic(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		       char **argv);
static int cmd_help(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv);
static int cmd_counters(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
			char **argv);

#define CTL_ARGS_ANY 64

/* The daemon's commands as of admin protocol 1, and steerctl's view of
 * them. Anything else goes through ctl_cmd_passthru. */
static const struct ctl_cmd ctl_cmds[] = {
	{"version", cmd_generic,
	 "daemon version, cluster, this node, config generation", "", 0, 0},
	{"help", cmd_help,
	 "these commands, then the daemon's; with COMMAND, that command's "
	 "usage and description",
	 "[COMMAND]", 0, 1},
	{"nodes", cmd_generic, "the cluster's nodes and their gossip state", "",
	 0, 0},
	{"flows", cmd_generic,
	 "flows in the flow-state cache, or the cell's flow table (default "
	 "100)",
	 "[limit N]", 0, 2},
	{"templates", cmd_generic,
	 "encapsulation templates to every node and backend", "", 0, 0},
	{"counters", cmd_counters,
	 "counters that are not zero (all of them with -a)", "[-a|--all]", 0,
	 1},
	{"shards", cmd_generic,
	 "cell mode: live cells and shards per cell; with N, the cells of "
	 "shard N (primary first)",
	 "[N]", 0, 1},
	{"flow-set", cmd_generic,
	 "record that node OWNER owns a flow since EPOCH",
	 "PROTO SRC SPORT DST DPORT OWNER EPOCH", 7, 7},
	{"flow-del", cmd_generic, "forget a flow", "PROTO SRC SPORT DST DPORT",
	 5, 5},
	{"reload", cmd_generic,
	 "read the config and cluster description again (as SIGHUP)", "", 0, 0},
	{NULL, NULL, NULL, NULL, 0, 0},
};

static const struct ctl_cmd ctl_cmd_passthru = {
	NULL,	     cmd_generic, "sent to steerd as it is",
	"[ARGS...]", 0,		  CTL_ARGS_ANY};

static void ctl_usage(FILE *f)
{
	const struct ctl_cmd *c;
	int w = 0, n;

	fprintf(f,
		"usage: steerctl [OPTIONS] COMMAND [ARGS...]\n"
		"options:\n"
		"  -s, --socket PATH  steerd's admin socket (else $" CTL_SOCKET_ENV
		", else " CTL_SOCKET_DEFAULT ")\n"
		"  -j, --json         print the daemon's JSON result, one line\n"
		"  -p, --pretty       print it indented (implies -j)\n"
		"  -t, --timeout S    give up after S seconds (default %d)\n"
		"  -a, --all          counters: show those at zero too\n"
		"  -V, --version      steerctl's version, and steerd's when it "
		"answers\n"
		"  -h, --help         this text\n"
		"commands:\n",
		CTL_TIMEOUT_MS_DEFAULT / 1000);
	for (c = ctl_cmds; c->name; c++) {
		n = (int)(strlen(c->name) + strlen(c->args));
		if (n > w)
			w = n;
	}
	for (c = ctl_cmds; c->name; c++) {
		n = fprintf(f, "  %s %s", c->name, c->args);
		fprintf(f, "%*s%s\n", w + 5 - n, "", c->help);
	}
	fprintf(f, "Other commands go to steerd as they are: "
		   "'steerctl help' lists steerd's.\n");
}

/* --- Asking the daemon ------------------------------------------------ */

/*
 * A word of a request: printable ASCII but blank, so the request stays
 * one line of words (admin.h) and every word arrives whole.
 */
static int ctl_word_check(const char *w)
{
	const unsigned char *p = (const unsigned char *)w;

	if (!*p)
		return -EINVAL;
	for (; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return -EINVAL;
	return 0;
}

/* argv[0..argc) joined by blanks into a request; NULL after a message. */
static char *ctl_request_build(int argc, char **argv)
{
	size_t len = 0, n;
	char *req, *p;
	int i;

	for (i = 0; i < argc; i++) {
		if (ctl_word_check(argv[i])) {
			fputs("steerctl: '", stderr);
			render_text(stderr, argv[i], strlen(argv[i]));
			fputs("': a request word must be printable ASCII "
			      "without blanks, and not empty\n",
			      stderr);
			errno = EINVAL;
			return NULL;
		}
		len += strlen(argv[i]) + 1;
	}
	if (len - 1 > CTL_REQ_MAX) {
		fprintf(stderr,
			"steerctl: the request is %zu bytes, steerd takes at "
			"most %d\n",
			len - 1, CTL_REQ_MAX);
		errno = EINVAL;
		return NULL;
	}
	req = malloc(len);
	if (!req) {
		perror("steerctl");
		errno = ENOMEM;
		return NULL;
	}
	for (p = req, i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		memcpy(p, argv[i], n);
		p += n;
		*p++ = i + 1 < argc ? ' ' : '\0';
	}
	return req;
}

static void ctl_timeout_say(const struct ctl *ctl)
{
	fprintf(stderr, "steerctl: steerd at %s did not answer within %g s\n",
		ctl->socket, ctl->timeout_ms / 1000.0);
}

/* An error answer's "usage" member: true for a usage error (admin.h). */
static bool ctl_answer_usage(const json_t *doc)
{
	return json_is_true(json_object_get(doc, "usage"));
}

/*
 * Send argv as one request and read the answer into *doc (json_decref()
 * it; NULL on error); *result is its "result", borrowed. Returns 0;
 * -EINVAL for an argument that cannot be sent or a usage error the daemon
 * answered (printed); -EREMOTEIO when the daemon answered another error
 * (printed); another -errno when it could not be asked or answered
 * nonsense (printed).
 */
static int ctl_ask(struct ctl *ctl, int argc, char **argv, json_t **doc,
		   const json_t **result)
{
	const json_t *ok, *msg;
	json_error_t jerr;
	struct conn c;
	char *req, *ans = NULL;
	size_t len = 0;
	bool usage = false;
	int ret;

	*doc = NULL;
	req = ctl_request_build(argc, argv);
	if (!req)
		return -errno; /* -EINVAL: a word that cannot be sent */
	ret = conn_open(&c, ctl->socket, ctl->timeout_ms);
	if (ret == -ETIMEDOUT) {
		ctl_timeout_say(ctl);
		goto out;
	}
	if (ret) {
		fprintf(stderr,
			"steerctl: cannot reach steerd at %s: %s (is steerd "
			"running?)\n",
			ctl->socket, strerror(-ret));
		goto out;
	}
	ret = conn_request(&c, req, CTL_ANSWER_MAX, &ans, &len);
	conn_close(&c);
	if (ret == -ETIMEDOUT) {
		ctl_timeout_say(ctl);
		goto out;
	}
	if (ret == -ECONNRESET) {
		fprintf(stderr,
			"steerctl: steerd at %s closed the connection without "
			"answering\n",
			ctl->socket);
		goto out;
	}
	if (ret) {
		fprintf(stderr, "steerctl: asking steerd at %s: %s\n",
			ctl->socket, strerror(-ret));
		goto out;
	}
	/* One object, strict JSON, no \u0000 (jansson refuses it unless
	 * told otherwise), nesting bounded by jansson's parser. */
	*doc = json_loadb(ans, len, 0, &jerr);
	if (!*doc) {
		fputs("steerctl: malformed answer from steerd: at byte ",
		      stderr);
		fprintf(stderr, "%d: ", jerr.position);
		render_text(stderr, jerr.text, strlen(jerr.text));
		fputc('\n', stderr);
		ret = -EPROTO;
		goto out;
	}
	ok = json_object_get(*doc, "ok");
	msg = json_object_get(*doc, "error");
	*result = json_object_get(*doc, "result");
	if (json_is_true(ok) && *result) {
		ret = 0;
	} else if (json_is_false(ok) && json_is_string(msg)) {
		fputs("steerctl: ", stderr);
		render_text(stderr, json_string_value(msg),
			    json_string_length(msg));
		fputc('\n', stderr);
		usage = ctl_answer_usage(*doc);
		ret = -EREMOTEIO;
	} else {
		fprintf(stderr, "steerctl: malformed answer from steerd: not "
				"{\"ok\":true,\"result\":...} nor "
				"{\"ok\":false,\"error\":\"...\"}\n");
		ret = -EPROTO;
	}
	if (ret) {
		json_decref(*doc);
		*doc = NULL;
	}
out:
	free(ans);
	free(req);
	if (usage)
		return -EINVAL;
	/* -EINVAL says "usage error" to main(): not a socket's. */
	return ret == -EINVAL ? -EIO : ret;
}

/* v as JSON and a newline: on one line, or indented. */
static int ctl_json_out(const json_t *v, bool indent)
{
	int ret = render_json(stdout, v, indent);

	fputc('\n', stdout);
	if (ret)
		fprintf(stderr, "steerctl: cannot write the answer as JSON\n");
	return ret;
}

/* The result as -j or -p want it. */
static int ctl_json_print(const struct ctl *ctl, const json_t *v)
{
	return ctl_json_out(v, ctl->pretty);
}

static int ctl_show(struct ctl *ctl, int argc, char **argv, unsigned flags)
{
	const json_t *result;
	json_t *doc;
	int ret;

	ret = ctl_ask(ctl, argc, argv, &doc, &result);
	if (ret)
		return ret;
	if (ctl->json) {
		ret = ctl_json_print(ctl, result);
	} else {
		ret = render_value(stdout, result, flags);
		if (ret)
			fprintf(stderr, "steerctl: %s\n", strerror(-ret));
	}
	json_decref(doc);
	return ret;
}

/* --- Commands --------------------------------------------------------- */

static int cmd_generic(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		       char **argv)
{
	return ctl_show(ctl, argc, argv, 0);
}

static int cmd_counters(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
			char **argv)
{
	const json_t *result;
	json_t *doc;
	char *name = argv[0];
	int ret;

	if (argc == 2) {
		if (strcmp(argv[1], "-a") && strcmp(argv[1], "--all")) {
			fprintf(stderr, "usage: steerctl counters %s\n",
				cmd->args);
			return -EINVAL;
		}
		ctl->all = true;
	}
	if (ctl->json || ctl->all)
		return ctl_show(ctl, 1, &name, 0);
	ret = ctl_ask(ctl, 1, &name, &doc, &result);
	if (ret)
		return ret;
	if (render_visible(result, RENDER_HIDE_ZERO))
		ret = render_value(stdout, result, RENDER_HIDE_ZERO);
	else
		printf("every counter is zero (-a shows them)\n");
	if (ret)
		fprintf(stderr, "steerctl: %s\n", strerror(-ret));
	json_decref(doc);
	return ret;
}

static const struct ctl_cmd *ctl_cmd_known(const char *name)
{
	const struct ctl_cmd *c;

	for (c = ctl_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The daemon's "help" entry named name in result; NULL when none. */
static const json_t *ctl_help_entry(const json_t *result, const char *name)
{
	const json_t *cmds = json_object_get(result, "commands"), *c, *n;
	size_t i;

	json_array_foreach(cmds, i, c) {
		n = json_object_get(c, "name");
		if (json_is_string(n) && !strcmp(json_string_value(n), name))
			return c;
	}
	return NULL;
}

/* A string member of entry, or NULL. */
static const json_t *ctl_help_str(const json_t *entry, const char *key)
{
	const json_t *v = entry ? json_object_get(entry, key) : NULL;

	return json_is_string(v) ? v : NULL;
}

/*
 * help COMMAND as text: its usage (steerctl's table, else the daemon's),
 * then steerctl's description and the daemon's, each that exists.
 */
static void ctl_help_one_text(const char *name, const struct ctl_cmd *mine,
			      const json_t *entry)
{
	const json_t *u = ctl_help_str(entry, "usage");
	const json_t *h = ctl_help_str(entry, "help");

	if (mine) {
		printf("usage: steerctl %s%s%s\n", name,
		       mine->args[0] ? " " : "", mine->args);
	} else {
		fputs("usage: steerctl ", stdout);
		render_text(stdout, json_string_value(u),
			    json_string_length(u));
		fputc('\n', stdout);
	}
	if (mine)
		printf("  %s\n", mine->help);
	if (h) {
		fputs(mine ? "  steerd: " : "  ", stdout);
		render_text(stdout, json_string_value(h),
			    json_string_length(h));
		fputc('\n', stdout);
	}
}

/* help COMMAND with -j from steerctl's table alone (no daemon answered):
 * the shape of the daemon's entry. */
static int ctl_help_one_json(const char *name, const struct ctl_cmd *mine)
{
	json_t *e = json_pack("{s:s, s:s++, s:s}", "name", name, "usage", name,
			      mine->args[0] ? " " : "", mine->args, "help",
			      mine->help);
	int ret = -ENOMEM;

	if (e)
		ret = ctl_json_out(e, false);
	json_decref(e);
	return ret;
}

/*
 * help COMMAND: 0; -EINVAL (a usage error) when neither steerctl nor the
 * daemon knows it; the daemon's error when it could not be asked and
 * steerctl does not know the command either.
 */
static int ctl_help_one(struct ctl *ctl, const char *name)
{
	const struct ctl_cmd *mine = ctl_cmd_known(name);
	const json_t *result = NULL, *entry = NULL;
	char *req = "help";
	json_t *doc = NULL;
	int ret, out = 0;

	ret = ctl_ask(ctl, 1, &req, &doc, &result);
	if (ret && !mine)
		return ret == -EINVAL ? -EIO : ret;
	if (!ret) {
		entry = ctl_help_entry(result, name);
		if (!ctl_help_str(entry, "usage"))
			entry = NULL;
	}
	if (!mine && !entry) {
		fputs("steerctl: no command '", stderr);
		render_text(stderr, name, strlen(name));
		fputs("' (try 'steerctl help')\n", stderr);
	} else if (ctl->json && entry) {
		out = ctl_json_print(ctl, entry);
	} else if (ctl->json) {
		out = ctl_help_one_json(name, mine);
	} else {
		ctl_help_one_text(name, mine, entry);
	}
	json_decref(doc);
	return !mine && !entry ? -EINVAL : out;
}

/* steerctl's table, then the daemon's own "help" answer. */
static int cmd_help(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv)
{
	if (argc == 2)
		return ctl_help_one(ctl, argv[1]);
	if (ctl->json)
		return ctl_show(ctl, argc, argv, 0);
	ctl_usage(stdout);
	printf("\nsteerd's commands (%s):\n", ctl->socket);
	fflush(stdout);
	return ctl_show(ctl, argc, argv, 0);
}

/*
 * --version: steerctl's version, then the daemon's when it answers (a
 * daemon that does not is said on stderr). 0 either way. With -j, one
 * object: {"steerctl":"X","steerd":"Y"|null}.
 */
static int ctl_version(struct ctl *ctl)
{
	const json_t *result = NULL, *v = NULL;
	char *req = "version";
	json_t *doc = NULL, *j;
	bool asked;

	if (!ctl->json) {
		printf("steerctl %s\n", STEER_VERSION);
		fflush(stdout);
	}
	asked = !ctl_ask(ctl, 1, &req, &doc, &result);
	if (asked)
		v = json_object_get(result, "steerd");
	if (!json_is_string(v))
		v = NULL;
	if (ctl->json) {
		j = json_pack("{s:s, s:O?}", "steerctl", STEER_VERSION,
			      "steerd", (json_t *)v);
		if (j)
			ctl_json_out(j, false);
		json_decref(j);
	} else if (v) {
		fputs("steerd ", stdout);
		render_text(stdout, json_string_value(v),
			    json_string_length(v));
		fputc('\n', stdout);
	}
	json_decref(doc);
	return 0;
}

/* --- Options ---------------------------------------------------------- */

static int ctl_timeout_parse(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 ||
	    v > CTL_TIMEOUT_S_MAX)
		return -EINVAL;
	*ms = v * 1000 < 1 ? 1 : (int)(v * 1000);
	return 0;
}

/* Options before the command; returns optind's final value or -EINVAL. */
static int ctl_args_parse(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"pretty", no_argument, NULL, 'p'},
		{"timeout", required_argument, NULL, 't'},
		{"all", no_argument, NULL, 'a'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	/* '+': stop at the command, its arguments are its own. */
	while ((c = getopt_long(argc, argv, "+s:jpt:aVh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!optarg[0]) {
				fprintf(stderr, "steerctl: --socket expects a "
						"path\n");
				return -EINVAL;
			}
			ctl->socket = optarg;
			break;
		case 'j':
			ctl->json = true;
			break;
		case 'p':
			ctl->json = ctl->pretty = true;
			break;
		case 't':
			if (ctl_timeout_parse(optarg, &ctl->timeout_ms)) {
				fprintf(stderr,
					"steerctl: --timeout expects seconds "
					"in (0, %d], got '%s'\n",
					CTL_TIMEOUT_S_MAX, optarg);
				return -EINVAL;
			}
			break;
		case 'a':
			ctl->all = true;
			break;
		case 'V':
			ctl->version = true;
			break;
		case 'h':
			ctl_usage(stdout);
			exit(0);
		default:
			ctl_usage(stderr);
			return -EINVAL;
		}
	}
	if (ctl->version && optind < argc) {
		fprintf(stderr, "steerctl: --version takes no command\n");
		return -EINVAL;
	}
	if (optind >= argc && !ctl->version) {
		fprintf(stderr, "steerctl: no command\n");
		ctl_usage(stderr);
		return -EINVAL;
	}
	return optind;
}

static const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	const struct ctl_cmd *c = ctl_cmd_known(name);

	return c ? c : &ctl_cmd_passthru;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {.timeout_ms = CTL_TIMEOUT_MS_DEFAULT};
	const struct ctl_cmd *cmd;
	int first, n, ret;

	ctl.socket = getenv(CTL_SOCKET_ENV);
	if (!ctl.socket || !ctl.socket[0])
		ctl.socket = CTL_SOCKET_DEFAULT;
	first = ctl_args_parse(&ctl, argc, argv);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (ctl.version) {
		ctl_version(&ctl);
		return fflush(stdout) || ferror(stdout) ? CTL_EXIT_FAIL : 0;
	}
	cmd = ctl_cmd_find(argv[first]);
	n = argc - first - 1;
	if (n < cmd->min_args || n > cmd->max_args) {
		fprintf(stderr, "usage: steerctl %s%s%s\n", argv[first],
			cmd->args[0] ? " " : "", cmd->args);
		return CTL_EXIT_USAGE;
	}
	ret = cmd->fn(&ctl, cmd, n + 1, argv + first);
	if (fflush(stdout) || ferror(stdout)) {
		perror("steerctl: writing the output");
		return CTL_EXIT_FAIL;
	}
	if (ret == -EINVAL)
		return CTL_EXIT_USAGE;
	return ret ? CTL_EXIT_FAIL : 0;
}
