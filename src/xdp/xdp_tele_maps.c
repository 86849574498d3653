// SPDX-License-Identifier: GPL-2.0-only
#include "xdp/xdp_tele_maps.h"

#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

int xdp_tele_slot_reset(struct xdp_prog *x, uint32_t i, uint32_t gen)
{
	struct steer_flow_tele t;
	int fd = xdp_prog_map_fd(x, "steer_ftele");

	if (fd < 0)
		return fd;
	if (i >= STEER_XDP_TELE_SLOTS)
		return -ERANGE;
	memset(&t, 0, sizeof(t));
	t.gen = gen;
	return bpf_map_update_elem(fd, &i, &t, BPF_ANY) ? -errno : 0;
}

int xdp_tele_slots_read(struct xdp_prog *x, struct steer_flow_tele *out,
			uint32_t n)
{
	uint32_t keys[STEER_XDP_TELE_SLOTS], out_batch = 0, got = 0, count;
	int fd = xdp_prog_map_fd(x, "steer_ftele");
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	if (fd < 0)
		return fd;
	if (n > STEER_XDP_TELE_SLOTS)
		return -ERANGE;
	while (got < n) {
		count = n - got;
		if (bpf_map_lookup_batch(fd, got ? &out_batch : NULL,
					 &out_batch, keys + got, out + got,
					 &count, &o) &&
		    errno != ENOENT)
			return -errno;
		if (!count)
			break;
		got += count;
	}
	return got == n ? 0 : -EIO;
}

int xdp_tele_cands_take(struct xdp_prog *x, struct flow_key *keys,
			uint32_t *samples, uint32_t max)
{
	int fd = xdp_prog_map_fd(x, "steer_tele_cand");
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct flow_key in;
	uint32_t got = 0, count;
	int first = 1, done = 0;

	if (fd < 0)
		return fd;
	while (!done && got < max) {
		count = max - got;
		if (bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &in,
						    keys + got, samples + got,
						    &count, &o)) {
			if (errno != ENOENT)
				return -errno;
			done = 1; /* the map's end */
		}
		first = 0;
		got += count;
		if (!count)
			break;
	}
	return (int)got;
}
