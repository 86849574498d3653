// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dissemination queue (see gossip_dissem.h). Items live in a pool
 * indexed by uint32_t (NIL: none), each on the list of its class and
 * transmission count: new items go to the head of their class's list 0
 * (newest first), an item sent once more moves to the tail of the next
 * list. A fill walks the lists of the first class from list 0 up, then
 * the next classes, so it touches only what it takes. Items marked for
 * push are also on a FIFO list of their class.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_dissem.h"

#define NIL UINT32_MAX

_Static_assert(sizeof(struct flow_key) == 5 * sizeof(uint64_t), "flow key");

static uint8_t class_of(const struct gossip_update *u)
{
	return u->kind == GOSSIP_UPD_MEMBER    ? 0
	       : u->kind == GOSSIP_UPD_SESSION ? 1
					       : 2;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint32_t subject_hash(const struct gossip_update *u)
{
	uint64_t h = u->kind, w[5];
	uint32_t i;

	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		h = mix64(h << 32 | u->member.node);
		break;
	case GOSSIP_UPD_SESSION:
		memcpy(w, &u->session.key, sizeof(w));
		for (i = 0; i < 5; i++)
			h = mix64(h ^ w[i]);
		break;
	case GOSSIP_UPD_FORECAST:
		h = mix64(h << 32 | u->forecast.node);
		break;
	default:
		h = mix64(h << 32 | u->load.node);
		break;
	}
	return (uint32_t)h;
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
	case GOSSIP_UPD_FORECAST:
		return a->forecast.node == b->forecast.node;
	default:
		return false;
	}
}

static void list_init(struct gossip_dissem_list *l)
{
	l->head = l->tail = NIL;
}

void gossip_dissem_init(struct gossip_dissem *d, uint32_t max_items)
{
	uint32_t c, t;

	memset(d, 0, sizeof(*d));
	d->max_items = max_items;
	d->free_head = NIL;
	for (c = 0; c < GOSSIP_DISSEM_CLASSES; c++) {
		list_init(&d->pushq[c]);
		for (t = 0; t < GOSSIP_DISSEM_TX_MAX; t++)
			list_init(&d->tx[c][t]);
	}
}

void gossip_dissem_free(struct gossip_dissem *d)
{
	free(d->v);
	free(d->htab);
	gossip_dissem_init(d, d->max_items);
}

static struct gossip_dissem_list *tx_list(struct gossip_dissem *d, uint32_t i)
{
	return &d->tx[d->v[i].cls][d->v[i].transmits];
}

static void tx_unlink(struct gossip_dissem *d, uint32_t i)
{
	struct gossip_dissem_item *it = &d->v[i];
	struct gossip_dissem_list *l = tx_list(d, i);

	if (it->prev != NIL)
		d->v[it->prev].next = it->next;
	else
		l->head = it->next;
	if (it->next != NIL)
		d->v[it->next].prev = it->prev;
	else
		l->tail = it->prev;
}

static void tx_link(struct gossip_dissem *d, uint32_t i, bool at_head)
{
	struct gossip_dissem_item *it = &d->v[i];
	struct gossip_dissem_list *l = tx_list(d, i);

	if (at_head) {
		it->prev = NIL;
		it->next = l->head;
		if (l->head != NIL)
			d->v[l->head].prev = i;
		else
			l->tail = i;
		l->head = i;
	} else {
		it->next = NIL;
		it->prev = l->tail;
		if (l->tail != NIL)
			d->v[l->tail].next = i;
		else
			l->head = i;
		l->tail = i;
	}
}

static void push_unlink(struct gossip_dissem *d, uint32_t i)
{
	struct gossip_dissem_item *it = &d->v[i];
	struct gossip_dissem_list *l = &d->pushq[it->cls];

	if (it->pprev != NIL)
		d->v[it->pprev].pnext = it->pnext;
	else
		l->head = it->pnext;
	if (it->pnext != NIL)
		d->v[it->pnext].pprev = it->pprev;
	else
		l->tail = it->pprev;
	it->push = false;
	d->n_push--;
}

static void push_link(struct gossip_dissem *d, uint32_t i)
{
	struct gossip_dissem_item *it = &d->v[i];
	struct gossip_dissem_list *l = &d->pushq[it->cls];

	it->push = true;
	it->pnext = NIL;
	it->pprev = l->tail;
	if (l->tail != NIL)
		d->v[l->tail].pnext = i;
	else
		l->head = i;
	l->tail = i;
	d->n_push++;
}

static uint32_t *hash_slot(struct gossip_dissem *d, uint32_t h)
{
	return &d->htab[h & (d->hsize - 1)];
}

static uint32_t hash_find(struct gossip_dissem *d,
			  const struct gossip_update *u)
{
	uint32_t h = subject_hash(u), i;

	if (!d->hsize)
		return NIL;
	for (i = *hash_slot(d, h); i != NIL; i = d->v[i].hnext)
		if (d->v[i].hash == h && same_subject(&d->v[i].u, u))
			return i;
	return NIL;
}

static void hash_remove(struct gossip_dissem *d, uint32_t i)
{
	uint32_t *pp = hash_slot(d, d->v[i].hash);

	while (*pp != i)
		pp = &d->v[*pp].hnext;
	*pp = d->v[i].hnext;
}

static void hash_insert(struct gossip_dissem *d, uint32_t i)
{
	uint32_t *slot = hash_slot(d, d->v[i].hash);

	d->v[i].hnext = *slot;
	*slot = i;
}

static void item_free(struct gossip_dissem *d, uint32_t i)
{
	struct gossip_dissem_item *it = &d->v[i];

	tx_unlink(d, i);
	if (it->push)
		push_unlink(d, i);
	hash_remove(d, i);
	d->bytes -= gossip_codec_update_size(it->u.kind);
	it->used = false;
	it->next = d->free_head;
	d->free_head = i;
	d->n--;
}

/* Count transmissions up to t: the item moves to the tail of list t, or
 * leaves the queue at the limit. */
static void item_sent(struct gossip_dissem *d, uint32_t i, uint32_t t,
		      uint32_t limit)
{
	if (t >= limit) {
		item_free(d, i);
		return;
	}
	tx_unlink(d, i);
	d->v[i].transmits = (uint8_t)t;
	tx_link(d, i, false);
}

/* Double the pool (and the hash), up to max_items. */
static int grow(struct gossip_dissem *d)
{
	uint32_t cap = d->cap ? d->cap * 2 : 64, hsize, i, *htab;
	struct gossip_dissem_item *v;

	if (cap > d->max_items)
		cap = d->max_items;
	if (cap <= d->cap)
		return -ENOMEM;
	for (hsize = 1; hsize < 2 * cap; hsize *= 2)
		;
	htab = malloc(hsize * sizeof(*htab));
	if (!htab)
		return -ENOMEM;
	v = realloc(d->v, cap * sizeof(*v));
	if (!v) {
		free(htab);
		return -ENOMEM;
	}
	for (i = 0; i < hsize; i++)
		htab[i] = NIL;
	free(d->htab);
	d->v = v;
	d->htab = htab;
	d->hsize = hsize;
	for (i = 0; i < d->cap; i++)
		if (v[i].used)
			hash_insert(d, i);
	for (i = cap; i-- > d->cap;) {
		v[i].used = false;
		v[i].next = d->free_head;
		d->free_head = i;
	}
	d->cap = cap;
	return 0;
}

/* The item to sacrifice when full: lowest class, most sent, oldest. */
static void drop_worst(struct gossip_dissem *d)
{
	uint32_t c, t;

	for (c = GOSSIP_DISSEM_CLASSES; c-- > 0;)
		for (t = GOSSIP_DISSEM_TX_MAX; t-- > 0;)
			if (d->tx[c][t].tail != NIL) {
				item_free(d, d->tx[c][t].tail);
				d->dropped++;
				return;
			}
}

int gossip_dissem_push(struct gossip_dissem *d, const struct gossip_update *u,
		       bool push)
{
	struct gossip_dissem_item *it;
	uint32_t i = hash_find(d, u);

	if (i != NIL) {
		push |= d->v[i].push;
		item_free(d, i);
	}
	if (d->n >= d->max_items)
		drop_worst(d);
	if (d->free_head == NIL && grow(d))
		return -ENOMEM;
	i = d->free_head;
	it = &d->v[i];
	d->free_head = it->next;
	memset(it, 0, sizeof(*it));
	it->u = *u;
	it->used = true;
	it->cls = class_of(u);
	it->hash = subject_hash(u);
	hash_insert(d, i);
	tx_link(d, i, true);
	if (push)
		push_link(d, i);
	d->bytes += gossip_codec_update_size(u->kind);
	d->n++;
	return 0;
}

static uint32_t clamp_limit(uint32_t limit)
{
	return limit < GOSSIP_DISSEM_TX_MAX ? limit : GOSSIP_DISSEM_TX_MAX;
}

uint32_t gossip_dissem_take_push(struct gossip_dissem *d,
				 struct gossip_update *out, uint32_t max,
				 uint32_t sends, uint32_t limit)
{
	uint32_t c, i, got = 0;

	limit = clamp_limit(limit);
	for (c = 0; c < GOSSIP_DISSEM_CLASSES; c++) {
		while (got < max && (i = d->pushq[c].head) != NIL) {
			out[got++] = d->v[i].u;
			push_unlink(d, i);
			item_sent(d, i, d->v[i].transmits + sends, limit);
		}
	}
	return got;
}

uint16_t gossip_dissem_fill(struct gossip_dissem *d, struct gossip_update *out,
			    uint16_t max, size_t room, uint32_t limit)
{
	uint32_t c, t, i, next;
	uint16_t got = 0;
	size_t sz;

	limit = clamp_limit(limit);
	/* The limit falls when members leave: retire what reached it. */
	for (c = 0; c < GOSSIP_DISSEM_CLASSES; c++)
		for (t = limit; t < GOSSIP_DISSEM_TX_MAX; t++)
			while (d->tx[c][t].head != NIL)
				item_free(d, d->tx[c][t].head);
	if (!d->n || !max)
		return 0;
	/* Items this fill took move up a list: the stamp skips them. */
	d->stamp++;
	for (c = 0; c < GOSSIP_DISSEM_CLASSES && got < max; c++) {
		for (t = 0; t < limit && got < max; t++) {
			for (i = d->tx[c][t].head; i != NIL && got < max;
			     i = next) {
				next = d->v[i].next;
				if (d->v[i].stamp == d->stamp)
					continue;
				/* One size per class: none fits if this
				 * does not. */
				sz = gossip_codec_update_size(d->v[i].u.kind);
				if (sz > room)
					goto next_class;
				out[got++] = d->v[i].u;
				room -= sz;
				d->v[i].stamp = d->stamp;
				item_sent(d, i, t + 1, limit);
			}
		}
	next_class:;
	}
	return got;
}
