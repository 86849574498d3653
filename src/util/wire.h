/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bounds-checked cursor over a wire buffer, big endian: the codecs'
 * (gossip, cell messages). A write or read past len sets err and writes
 * nothing (reads give zero), so a codec checks err once at the end.
 */
#ifndef STEER_UTIL_WIRE_H
#define STEER_UTIL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire {
	uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

static inline void wire_put8(struct wire *c, uint8_t v)
{
	if (c->off + 1 > c->len) {
		c->err = true;
		return;
	}
	c->p[c->off++] = v;
}

static inline void wire_put16(struct wire *c, uint16_t v)
{
	wire_put8(c, (uint8_t)(v >> 8));
	wire_put8(c, (uint8_t)v);
}

static inline void wire_put32(struct wire *c, uint32_t v)
{
	wire_put16(c, (uint16_t)(v >> 16));
	wire_put16(c, (uint16_t)v);
}

static inline void wire_put64(struct wire *c, uint64_t v)
{
	wire_put32(c, (uint32_t)(v >> 32));
	wire_put32(c, (uint32_t)v);
}

static inline void wire_putn(struct wire *c, const void *src, size_t n)
{
	if (c->off + n > c->len) {
		c->err = true;
		return;
	}
	memcpy(c->p + c->off, src, n);
	c->off += n;
}

static inline uint8_t wire_get8(struct wire *c)
{
	if (c->off + 1 > c->len) {
		c->err = true;
		return 0;
	}
	return c->p[c->off++];
}

static inline uint16_t wire_get16(struct wire *c)
{
	uint16_t hi = wire_get8(c);

	return (uint16_t)(hi << 8 | wire_get8(c));
}

static inline uint32_t wire_get32(struct wire *c)
{
	uint32_t hi = wire_get16(c);

	return hi << 16 | wire_get16(c);
}

static inline uint64_t wire_get64(struct wire *c)
{
	uint64_t hi = wire_get32(c);

	return hi << 32 | wire_get32(c);
}

static inline void wire_getn(struct wire *c, void *dst, size_t n)
{
	if (c->off + n > c->len) {
		c->err = true;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p + c->off, n);
	c->off += n;
}

/* A reserved field: must read as zero. */
static inline void wire_get_zero(struct wire *c, size_t n)
{
	while (n--)
		if (wire_get8(c))
			c->err = true;
}

#endif /* STEER_UTIL_WIRE_H */
