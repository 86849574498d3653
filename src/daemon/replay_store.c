// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/replay_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <steer/rule.h>

#include "gossip/gossip.h"

#define REPLAY_STORE_HDR "steer-replay 1"
#define REPLAY_STORE_MAX (1u << 22) /* 65,535 senders fit many times */

/* "SENDER SEQ" in [p, end): 0 and the two values, or -EINVAL. */
static int replay_line(const char *p, const char *end, uint16_t *sender,
		       uint64_t *seq)
{
	char line[64], *e;
	unsigned long s;
	size_t n = (size_t)(end - p);

	if (!n || n >= sizeof(line))
		return -EINVAL;
	memcpy(line, p, n);
	line[n] = '\0';
	if (line[0] < '0' || line[0] > '9')
		return -EINVAL;
	errno = 0;
	s = strtoul(line, &e, 10);
	if (errno || *e != ' ' || s >= STEER_NODE_NONE || e[1] < '0' ||
	    e[1] > '9')
		return -EINVAL;
	*seq = strtoull(e + 1, &e, 10);
	if (errno || *e)
		return -EINVAL;
	*sender = (uint16_t)s;
	return 0;
}

int replay_store_parse(const char *buf, size_t len,
		       int (*fn)(uint16_t sender, uint64_t seq, void *arg),
		       void *arg, uint32_t *bad)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t hl = strlen(REPLAY_STORE_HDR);
	uint16_t sender;
	uint64_t seq;
	int good = 0;

	*bad = 0;
	if (len <= hl || memcmp(buf, REPLAY_STORE_HDR, hl) || buf[hl] != '\n')
		return -EINVAL;
	for (p = buf + hl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl == p)
			continue; /* an empty line */
		if (replay_line(p, nl, &sender, &seq) || fn(sender, seq, arg)) {
			(*bad)++;
			continue;
		}
		good++;
	}
	return good;
}

static int replay_store_line(uint16_t sender, uint64_t top, void *arg)
{
	return fprintf(arg, "%u %" PRIu64 "\n", sender, top) < 0 ? -EIO : 0;
}

int replay_store_save(struct gossip *g, const char *path)
{
	char tmp[4096];
	FILE *f;
	int ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%s\n", REPLAY_STORE_HDR) < 0 ? -EIO : 0;
	if (!ret)
		ret = gossip_replay_tops(g, replay_store_line, f);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int replay_store_floor(uint16_t sender, uint64_t seq, void *arg)
{
	return gossip_replay_restore(arg, sender, seq);
}

int replay_store_load(struct gossip *g, const char *path, uint32_t *bad)
{
	char *buf;
	size_t len;
	FILE *f;
	int ret;

	*bad = 0;
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(REPLAY_STORE_MAX);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, REPLAY_STORE_MAX, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret)
		ret = replay_store_parse(buf, len, replay_store_floor, g, bad);
	free(buf);
	return ret;
}
