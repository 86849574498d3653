// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/drain.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "util/log.h"

#define MOD "drain"

extern char **environ;

static const char *const drain_names[] = {
	[DRAIN_NONE] = "none",
	[DRAIN_OPERATOR] = "operator",
	[DRAIN_FORECAST] = "forecast",
};

const char *drain_why_name(enum drain_why w)
{
	return (unsigned)w <= DRAIN_FORECAST ? drain_names[w] : "?";
}

void drain_init(struct drain *dr)
{
	memset(dr, 0, sizeof(*dr));
	dr->hook_status = -1;
}

bool drain_is(const struct drain *dr)
{
	return dr->why != DRAIN_NONE;
}

bool drain_joining(const struct drain *dr)
{
	return dr->joining;
}

/* Start the hook for the current state, signals as the daemon's were
 * before it took them. */
static void drain_hook_start(struct drain *dr, const struct steerd_conf *c,
			     const struct drain_self *self, uint64_t now_ms)
{
	char id[8];
	char *argv[] = {(char *)c->drain_hook,
			drain_is(dr) ? "drain" : "undrain",
			id,
			(char *)self->name,
			(char *)drain_why_name(dr->why),
			NULL};
	posix_spawnattr_t a;
	sigset_t none, dfl;
	int err;

	snprintf(id, sizeof(id), "%u", self->id);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	posix_spawnattr_init(&a);
	posix_spawnattr_setsigmask(&a, &none);
	posix_spawnattr_setsigdefault(&a, &dfl);
	posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSIGMASK |
					     POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&dr->hook_pid, c->drain_hook, NULL, &a, argv,
			  environ);
	posix_spawnattr_destroy(&a);
	dr->st.hooks_run++;
	if (err) {
		dr->hook_pid = 0;
		dr->hook_status = -1;
		dr->st.hooks_failed++;
		log_warn(MOD, "drain-hook %s: %s", c->drain_hook,
			 strerror(err));
		return;
	}
	dr->hook_start_ms = now_ms;
	log_info(MOD, "drain-hook %s %s (pid %d)", argv[1], argv[4],
		 (int)dr->hook_pid);
}

/* The state is why now: count, log, tell, run the hook. */
static void drain_change(struct drain *dr, const struct steerd_conf *c,
			 const struct drain_self *self, enum drain_why why,
			 uint64_t now_ms)
{
	bool was = drain_is(dr);

	dr->why = why;
	if (was == drain_is(dr))
		return; /* drained still, for another reason */
	dr->since_ms = now_ms;
	if (drain_is(dr))
		dr->st.drains++;
	else
		dr->st.undrains++;
	log_info(MOD, "%s (%s)", drain_is(dr) ? "drained" : "undrained",
		 drain_why_name(why));
	if (dr->on_change)
		dr->on_change(dr->on_change_ctx);
	if (!c->drain_hook[0])
		return;
	if (dr->hook_pid)
		dr->hook_pending = true;
	else
		drain_hook_start(dr, c, self, now_ms);
}

int drain_set(struct drain *dr, const struct steerd_conf *c,
	      const struct drain_self *self, enum drain_why why,
	      uint64_t now_ms)
{
	if (dr->joining && why != DRAIN_NONE) {
		dr->joining = false;
		dr->st.joins_cancelled++;
		log_info(MOD, "rejoining cancelled (%s)", drain_why_name(why));
		if (why == dr->why)
			return 0;
	}
	if (why == dr->why)
		return -EALREADY;
	if (why == DRAIN_NONE && c->hints && c->join_warmup_s) {
		if (dr->joining)
			return -EALREADY;
		dr->joining = true;
		dr->join_at_ms = now_ms + c->join_warmup_s * 1000ull;
		dr->st.joins++;
		log_info(MOD, "joining: back in the ingress set in %u s",
			 c->join_warmup_s);
		if (dr->on_change)
			dr->on_change(dr->on_change_ctx);
		return 0;
	}
	drain_change(dr, c, self, why, now_ms);
	return 0;
}

void drain_forecast(struct drain *dr, const struct steerd_conf *c,
		    const struct drain_self *self, uint16_t cpu, uint16_t mem,
		    uint64_t now_ms)
{
	uint16_t top = cpu > mem ? cpu : mem;

	if (!c->auto_drain)
		return;
	/* Overload ahead while rejoining: drained again (the join's end). */
	if ((!drain_is(dr) || dr->joining) && top > c->high_water) {
		if (!drain_set(dr, c, self, DRAIN_FORECAST, now_ms))
			dr->st.auto_drains++;
		return;
	}
	if (dr->why == DRAIN_FORECAST && top <= c->low_water &&
	    now_ms - dr->since_ms >= DRAIN_MIN_MS &&
	    !drain_set(dr, c, self, DRAIN_NONE, now_ms))
		dr->st.auto_undrains++;
}

static void drain_reaped(struct drain *dr, int status)
{
	dr->hook_pid = 0;
	if (WIFEXITED(status)) {
		dr->hook_status = WEXITSTATUS(status);
		if (dr->hook_status)
			dr->st.hooks_failed++;
		else
			dr->st.hooks_ok++;
	} else {
		dr->hook_status = WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
		dr->st.hooks_failed++;
	}
	if (dr->hook_status)
		log_warn(MOD, "drain-hook ended with %d", dr->hook_status);
}

void drain_poll(struct drain *dr, const struct steerd_conf *c,
		const struct drain_self *self, uint64_t now_ms)
{
	int status;

	if (dr->hook_pid) {
		if (waitpid(dr->hook_pid, &status, WNOHANG) == dr->hook_pid) {
			drain_reaped(dr, status);
		} else if (now_ms - dr->hook_start_ms > DRAIN_HOOK_MAX_MS) {
			kill(dr->hook_pid, SIGKILL);
			if (waitpid(dr->hook_pid, &status, 0) == dr->hook_pid)
				drain_reaped(dr, status);
			dr->hook_pid = 0;
			dr->st.hooks_killed++;
		}
	}
	if (!dr->hook_pid && dr->hook_pending && c->drain_hook[0]) {
		dr->hook_pending = false;
		drain_hook_start(dr, c, self, now_ms);
	}
	if (dr->joining && now_ms >= dr->join_at_ms) {
		dr->joining = false;
		drain_change(dr, c, self, DRAIN_NONE, now_ms);
	}
}

void drain_write(const struct drain *dr, struct jsonw *w, uint64_t now_ms)
{
	jsonw_bool(w, "drained", drain_is(dr));
	jsonw_str(w, "why", drain_why_name(dr->why));
	jsonw_bool(w, "joining", dr->joining);
	jsonw_u64(w, "join_in_ms",
		  dr->joining && dr->join_at_ms > now_ms
			  ? dr->join_at_ms - now_ms
			  : 0);
	jsonw_u64(w, "since_s",
		  dr->since_ms ? (now_ms - dr->since_ms) / 1000 : 0);
	jsonw_str(w, "hook",
		  dr->hook_pid		  ? "running"
		  : dr->hook_status == -1 ? "none"
		  : dr->hook_status	  ? "failed"
					  : "ok");
	jsonw_u64(w, "drains", dr->st.drains);
	jsonw_u64(w, "undrains", dr->st.undrains);
	jsonw_u64(w, "auto_drains", dr->st.auto_drains);
	jsonw_u64(w, "auto_undrains", dr->st.auto_undrains);
	jsonw_u64(w, "hooks_run", dr->st.hooks_run);
	jsonw_u64(w, "hooks_failed", dr->st.hooks_failed);
	jsonw_u64(w, "hooks_killed", dr->st.hooks_killed);
	jsonw_u64(w, "joins", dr->st.joins);
	jsonw_u64(w, "joins_cancelled", dr->st.joins_cancelled);
}

void drain_fini(struct drain *dr)
{
	int status;

	if (!dr->hook_pid)
		return;
	kill(dr->hook_pid, SIGKILL);
	waitpid(dr->hook_pid, &status, 0);
	dr->hook_pid = 0;
}
