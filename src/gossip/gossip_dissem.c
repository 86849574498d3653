// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dissemination queue (see gossip_dissem.h). A plain array, scanned per
 * datagram: it holds what changed in the last few seconds, which is small
 * next to the datagrams it rides on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_dissem.h"

void gossip_dissem_init(struct gossip_dissem *d, uint32_t max_items)
{
	memset(d, 0, sizeof(*d));
	d->max_items = max_items;
}

void gossip_dissem_free(struct gossip_dissem *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static bool same_subject(const struct gossip_update *a,
			 const struct gossip_update *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case GOSSIP_UPD_MEMBER:
		return a->member.node == b->member.node;
	case GOSSIP_UPD_SESSION:
		return flow_key_equal(&a->session.key, &b->session.key);
	case GOSSIP_UPD_LOAD:
		return a->load.node == b->load.node;
	default:
		return false;
	}
}

/* Class: lower goes first. */
static int prio(const struct gossip_update *u)
{
	return u->kind == GOSSIP_UPD_MEMBER    ? 0
	       : u->kind == GOSSIP_UPD_SESSION ? 1
					       : 2;
}

/* Negative when a should be sent before b. */
static int item_cmp(const struct gossip_dissem_item *a,
		    const struct gossip_dissem_item *b)
{
	if (prio(&a->u) != prio(&b->u))
		return prio(&a->u) - prio(&b->u);
	if (a->transmits != b->transmits)
		return a->transmits < b->transmits ? -1 : 1;
	return a->order > b->order ? -1 : a->order < b->order;
}

static void item_del(struct gossip_dissem *d, uint32_t i)
{
	if (d->v[i].push)
		d->n_push--;
	d->v[i] = d->v[--d->n];
}

/* The item to sacrifice when full: the worst by item_cmp. */
static uint32_t worst(const struct gossip_dissem *d)
{
	uint32_t i, w = 0;

	for (i = 1; i < d->n; i++)
		if (item_cmp(&d->v[i], &d->v[w]) > 0)
			w = i;
	return w;
}

int gossip_dissem_push(struct gossip_dissem *d, const struct gossip_update *u,
		       bool push)
{
	struct gossip_dissem_item *v;
	uint32_t i, cap;

	for (i = 0; i < d->n; i++)
		if (same_subject(&d->v[i].u, u)) {
			push |= d->v[i].push;
			item_del(d, i);
			break;
		}
	if (d->n >= d->max_items) {
		item_del(d, worst(d));
		d->dropped++;
	}
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 64;
		v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].u = *u;
	d->v[d->n].transmits = 0;
	d->v[d->n].push = push;
	d->v[d->n].order = d->next_order++;
	d->n++;
	d->n_push += push;
	return 0;
}

static int qcmp(const void *a, const void *b)
{
	return item_cmp(a, b);
}

/* Items marked for push first: members, then oldest first. */
static int push_cmp(const void *pa, const void *pb)
{
	const struct gossip_dissem_item *a = pa, *b = pb;

	if (a->push != b->push)
		return a->push ? -1 : 1;
	if (!a->push)
		return 0;
	if (prio(&a->u) != prio(&b->u))
		return prio(&a->u) - prio(&b->u);
	return a->order < b->order ? -1 : a->order > b->order;
}

static void retire(struct gossip_dissem *d, uint32_t limit)
{
	uint32_t i;

	for (i = 0; i < d->n;) {
		if (d->v[i].transmits >= limit)
			item_del(d, i);
		else
			i++;
	}
}

uint32_t gossip_dissem_take_push(struct gossip_dissem *d,
				 struct gossip_update *out, uint32_t max,
				 uint32_t sends, uint32_t limit)
{
	uint32_t i, got = 0;

	if (!d->n_push || !max)
		return 0;
	qsort(d->v, d->n, sizeof(*d->v), push_cmp);
	for (i = 0; i < d->n && d->v[i].push && got < max; i++) {
		out[got++] = d->v[i].u;
		d->v[i].push = false;
		d->v[i].transmits += sends;
		d->n_push--;
	}
	retire(d, limit);
	return got;
}

uint16_t gossip_dissem_fill(struct gossip_dissem *d, struct gossip_update *out,
			    uint16_t max, size_t room, uint32_t limit)
{
	uint16_t got = 0;
	uint32_t i;
	size_t sz;

	if (!d->n || !max)
		return 0;
	qsort(d->v, d->n, sizeof(*d->v), qcmp);
	for (i = 0; i < d->n && got < max; i++) {
		sz = gossip_codec_update_size(d->v[i].u.kind);
		if (sz > room)
			continue;
		room -= sz;
		out[got++] = d->v[i].u;
		d->v[i].transmits++;
	}
	/* Retire what has been sent enough (order is restored next fill). */
	retire(d, limit);
	return got;
}
