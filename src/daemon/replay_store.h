/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip's replay windows kept across a restart. Each datagram carries
 * its sender's sequence; a receiver takes each sequence once. A receiver
 * that restarted with empty windows would take one old datagram of each
 * sender again (a replay an attacker on the fabric could make). So steerd
 * writes the highest sequence of each sender to its state directory
 * every second and at a clean stop, and at a start reads them back as
 * floors: only what arrived in the last second before a crash stays
 * replayable once.
 *
 * The file, text: a first line "steer-replay 1", then "SENDER SEQ" per
 * line (decimal; sender 0..65534). Written to PATH.tmp and renamed, so a
 * crash during a write leaves the previous file whole.
 */
#ifndef STEER_DAEMON_REPLAY_STORE_H
#define STEER_DAEMON_REPLAY_STORE_H

#include <stddef.h>
#include <stdint.h>

struct gossip;

#define REPLAY_STORE_FILE "gossip.replay"

/*
 * Parse len bytes of a replay file: fn(sender, seq, arg) for each good
 * line. Returns the good lines, or -EINVAL when the first line is not the
 * header; *bad counts the other lines that are not "SENDER SEQ".
 */
int replay_store_parse(const char *buf, size_t len,
		       int (*fn)(uint16_t sender, uint64_t seq, void *arg),
		       void *arg, uint32_t *bad);

/* Write g's windows' tops to path. 0 or -errno. */
int replay_store_save(struct gossip *g, const char *path);

/* Read path's floors into g: the floors set (0 with no file), or -errno,
 * or -EINVAL for a file that is not one; *bad as above. */
int replay_store_load(struct gossip *g, const char *path, uint32_t *bad);

#endif /* STEER_DAEMON_REPLAY_STORE_H */
