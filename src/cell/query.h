/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State queries: the flows a cell is asking the other cells about.
 *
 * A cell that holds no record of a flow decides it (picks a backend) only
 * when the flow is truly new. A packet that is not a flow's first (TCP
 * without SYN), or one of a shard whose cells changed a moment ago, may
 * belong to a live flow whose state another cell holds (the previous
 * primary, a mirror, a cell whose copy has not arrived yet): deciding it
 * again could pick another backend and break the connection. So the cell
 * asks the cells that may hold it (QUERY) and holds the packet until one
 * answers with a record (ANSWER, found), every asked cell answers that it
 * has none, or the deadline passes; then its datagrams are handed back to
 * the caller, in arrival order, to run again with the record in the table
 * or, if none came, to decide.
 *
 * Fixed bounds: QUERY_FLOWS flows asked about at once, QUERY_HELD
 * datagrams held in all, QUERY_PER_FLOW per flow (beyond: dropped and
 * counted; TCP sends again). Single-threaded.
 */
#ifndef STEER_CELL_QUERY_H
#define STEER_CELL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#define QUERY_FLOWS 4096     /* flows asked about at once */
#define QUERY_HELD 8192	     /* datagrams held in all */
#define QUERY_PER_FLOW 8     /* ... per flow */
#define QUERY_DGRAM_MAX 2048 /* longer datagrams are not held */
#define QUERY_ASK_MAX 8	     /* cells asked about one flow */
/* Unanswered cells are asked again every QUERY_RESEND_MS; a flow waits
 * at most QUERY_WAIT_MS (a cell that neither answers nor is known down:
 * lost datagrams, a loaded machine). */
#define QUERY_RESEND_MS 40
#define QUERY_WAIT_MS 500

struct query_stats {
	uint64_t flows;	      /* flows asked about */
	uint64_t found;	      /* ... a cell held their state */
	uint64_t none;	      /* ... every asked cell had none */
	uint64_t timeouts;    /* ... the deadline passed first */
	uint64_t resent;      /* QUERY datagrams sent again */
	uint64_t held;	      /* datagrams held */
	uint64_t released;    /* ... handed back */
	uint64_t dropped;     /* not held: full, too long, too many */
	uint64_t unsolicited; /* answers for no flow asked, or twice */
};

struct query;

/* NULL with errno ENOMEM. */
struct query *query_new(void);
void query_free(struct query *q);

/*
 * Hold datagram dg (len bytes) of flow k while the cells ask[0..n-1]
 * (1 <= n <= QUERY_ASK_MAX, distinct) are asked about it; now_ms is the
 * caller's clock. Returns 1 when the flow is new here (the caller sends
 * each asked cell a QUERY), 0 when it joins the flow's wait (its cells
 * are asked already), -ENOSPC when the datagram is dropped (counted),
 * -EINVAL for n out of range.
 */
int query_hold(struct query *q, const struct flow_key *k, const uint16_t *ask,
	       uint32_t n, const uint8_t *dg, size_t len, uint64_t now_ms);

/* Is flow k waiting for answers? */
bool query_waiting(const struct query *q, const struct flow_key *k);

/*
 * Cell `from` answered about flow k: found says it sent a record (which
 * the caller has merged into its table). The flow's wait ends at the
 * first record, or when every asked cell has said none. Returns 1 when
 * this answer ended it (query_run then hands its datagrams back), 0 when
 * it goes on or had ended, -ENOENT for an answer nobody waits for
 * (counted as unsolicited).
 */
int query_answer(struct query *q, const struct flow_key *k, uint16_t from,
		 bool found);

/*
 * Work due at now_ms: ask again (resend(arg, k, cell)) the cells that
 * have not answered for QUERY_RESEND_MS; end the waits past QUERY_WAIT_MS;
 * then hand every datagram of every flow whose wait ended to
 * release(arg, dg, len, found), in arrival order, and forget the flow.
 * release may hold again (a new wait); it is not called twice for one
 * datagram in one call.
 */
void query_run(struct query *q, uint64_t now_ms,
	       void (*resend)(void *arg, const struct flow_key *k,
			      uint16_t cell),
	       void (*release)(void *arg, uint8_t *dg, size_t len, bool found),
	       void *arg);

/* Flows waiting now; datagrams held now. */
uint32_t query_count(const struct query *q);
uint32_t query_held_count(const struct query *q);
const struct query_stats *query_stats(const struct query *q);

#endif /* STEER_CELL_QUERY_H */
