// SPDX-License-Identifier: GPL-2.0-only
/*
 * The predictive header cache's second level, in LMDB (phc_store.h).
 */
#include "node/phc_store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <steer/rule.h>

/* A write or a delete waiting for the next commit. */
struct phc_op {
	struct flow_key key;
	uint8_t val[PHC_VALUE_LEN];
	bool del;
};

struct phc_store {
	MDB_env *env;
	MDB_dbi dbi;
	struct phc_op *ops;
	uint32_t n_ops, cap_ops;
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void phc_value_encode(const struct phc_entry *e, uint8_t *out)
{
	memset(out, 0, PHC_VALUE_LEN);
	out[0] = PHC_VALUE_VERSION;
	put_le(out + 2, e->owner, 2);
	put_le(out + 4, e->p_permille, 2);
	put_le(out + 8, e->epoch, 4);
	put_le(out + 12, e->expires_ms, 8);
}

int phc_value_decode(const void *v, size_t len, struct phc_entry *e)
{
	const uint8_t *p = v;

	if (len != PHC_VALUE_LEN || p[0] != PHC_VALUE_VERSION || p[1] ||
	    get_le(p + 6, 2) || get_le(p + 20, 4))
		return -EBADMSG;
	e->owner = (uint16_t)get_le(p + 2, 2);
	e->p_permille = (uint16_t)get_le(p + 4, 2);
	e->epoch = (uint32_t)get_le(p + 8, 4);
	e->expires_ms = get_le(p + 12, 8);
	if (e->owner == STEER_NODE_NONE || !e->p_permille ||
	    e->p_permille > 1000)
		return -EBADMSG;
	return 0;
}

/* LMDB's errors are positive, its own or errno values. */
static int store_err(int rc)
{
	return rc == MDB_MAP_FULL ? -ENOSPC : rc > 0 && rc < 1000 ? -rc : -EIO;
}

struct phc_store *phc_store_open(const char *dir, size_t map_bytes, char *err,
				 size_t errlen)
{
	struct phc_store *s = calloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(s);
		return NULL;
	}
	rc = mdb_env_create(&s->env);
	if (!rc)
		rc = mdb_env_set_mapsize(s->env, map_bytes);
	if (!rc)
		rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
	if (!rc)
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (!rc)
		rc = mdb_dbi_open(txn, NULL, 0, &s->dbi);
	if (!rc)
		rc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (rc) {
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		phc_store_close(s);
		errno = -store_err(rc);
		return NULL;
	}
	return s;
}

void phc_store_close(struct phc_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s->ops);
	free(s);
}

static struct phc_op *store_op(struct phc_store *s)
{
	struct phc_op *o;
	uint32_t cap;

	if (s->n_ops == s->cap_ops) {
		cap = s->cap_ops ? s->cap_ops * 2 : 64;
		o = realloc(s->ops, cap * sizeof(*o));
		if (!o)
			return NULL;
		s->ops = o;
		s->cap_ops = cap;
	}
	return &s->ops[s->n_ops++];
}

int phc_store_put(struct phc_store *s, const struct phc_entry *e)
{
	struct phc_op *o = store_op(s);

	if (!o)
		return -ENOMEM;
	o->key = e->key;
	o->del = false;
	phc_value_encode(e, o->val);
	return 0;
}

int phc_store_del(struct phc_store *s, const struct flow_key *k)
{
	struct phc_op *o = store_op(s);

	if (!o)
		return -ENOMEM;
	o->key = *k;
	o->del = true;
	return 0;
}

int phc_store_commit(struct phc_store *s)
{
	MDB_txn *txn;
	MDB_val k, v;
	uint32_t i;
	int rc;

	if (!s->n_ops)
		return 0;
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	for (i = 0; !rc && i < s->n_ops; i++) {
		k.mv_size = sizeof(s->ops[i].key);
		k.mv_data = &s->ops[i].key;
		if (s->ops[i].del) {
			rc = mdb_del(txn, s->dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
			continue;
		}
		v.mv_size = PHC_VALUE_LEN;
		v.mv_data = s->ops[i].val;
		rc = mdb_put(txn, s->dbi, &k, &v, 0);
	}
	s->n_ops = 0;
	if (rc) {
		mdb_txn_abort(txn);
		return store_err(rc);
	}
	rc = mdb_txn_commit(txn);
	return rc ? store_err(rc) : 0;
}

int phc_store_walk(struct phc_store *s, phc_store_fn fn, void *arg,
		   uint64_t *bad)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	struct phc_entry e;
	int rc, ret = 0;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return store_err(rc);
	rc = mdb_cursor_open(txn, s->dbi, &cur);
	if (rc) {
		mdb_txn_abort(txn);
		return store_err(rc);
	}
	while (!ret && !(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
		if (k.mv_size != sizeof(e.key) ||
		    phc_value_decode(v.mv_data, v.mv_size, &e)) {
			if (bad)
				(*bad)++;
			continue;
		}
		memcpy(&e.key, k.mv_data, sizeof(e.key));
		ret = fn(&e, arg);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

uint64_t phc_store_count(struct phc_store *s)
{
	MDB_stat st;
	MDB_txn *txn;
	uint64_t n = 0;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn))
		return 0;
	if (!mdb_stat(txn, s->dbi, &st))
		n = st.ms_entries;
	mdb_txn_abort(txn);
	return n;
}
