/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A gossip node: SWIM membership with Lifeguard's refinements,
 * dissemination of member, session and load updates (news is pushed at
 * once to a few members, who pass it on, then piggy-backed on later
 * datagrams), periodic anti-entropy. Event driven and single threaded:
 * the caller feeds received datagrams to gossip_recv() and calls
 * gossip_tick() by gossip_next_deadline(); the node reads the time and
 * sends through the injected struct gossip_io, so a simulator can run
 * hundreds of nodes on a virtual clock and a daemon can run one on its
 * event loop (gossip_net.h has the UDP socket glue).
 */
#ifndef STEER_GOSSIP_H
#define STEER_GOSSIP_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/hash.h>

#include "gossip/gossip_codec.h"
#include "util/hist.h"

struct gossip;

/*
 * How session records spread (gossip_config.ownership). FLOOD: to every
 * node, by dissemination and anti-entropy. DIRECTORY: each session's
 * record goes from its owner to its homes only, the dir_homes live
 * members ranked first by rendezvous hashing of the session's shard
 * (gossip_dir.h); other nodes learn it when a home teaches them.
 */
enum gossip_ownership {
	GOSSIP_OWN_FLOOD = 0,
	GOSSIP_OWN_DIRECTORY = 1,
};

#define GOSSIP_DIR_HOMES_MAX 3

struct gossip_io {
	void *ctx;
	/* Milliseconds on a monotonic clock. */
	uint64_t (*now_ms)(void *ctx);
	/* Send one datagram; returns 0 or a negative errno (counted, the
	 * protocol copes with loss). */
	int (*send)(void *ctx, const struct gossip_addr *to, const void *buf,
		    size_t len);
};

struct gossip_member_info {
	uint16_t id;
	enum gossip_state state;
	uint32_t incarnation;
	struct gossip_addr addr;
	bool has_load;
	struct gossip_load_update load;
	bool has_forecast;
	struct gossip_forecast_update forecast;
};

struct gossip_session_info {
	struct flow_key key;
	uint16_t owner;
	enum gossip_session_op state;
	uint32_t epoch;
};

/* Callbacks; any may be NULL. They must not call back into the node. */
struct gossip_events {
	void *ctx;
	/* A member was added or changed state or incarnation; old is
	 * GOSSIP_STATE_NONE for a member seen for the first time. */
	void (*member)(void *ctx, const struct gossip_member_info *m,
		       enum gossip_state old);
	/* A session was learned, closed, or changed owner or epoch. */
	void (*session)(void *ctx, const struct gossip_session_info *s);
	/* A newer load report of a member arrived. */
	void (*load)(void *ctx, const struct gossip_load_update *l);
	/* A migration hint from the owner of a session (the datagram's
	 * sender: hints about another node's sessions are refused). */
	void (*hint)(void *ctx, const struct gossip_hint_update *h);
	/* An operator's order for this node, from the node it was given
	 * to (each order once, whatever copies arrive). */
	void (*order)(void *ctx, const struct gossip_order_update *o);
};

/*
 * Defaults (gossip_config_default, in brackets) are tuned for a LAN with
 * sub-millisecond latency: in the simulator (1-5 ms per datagram) a
 * crashed member is known dead by all 16 or 48 nodes in about 1 s (2 s
 * at worst), a session announce reaches all 16 in about 10 ms, and 10%
 * random loss gives suspicions but never a false death. Over a WAN,
 * raise the probe interval and timeout and the suspicion multiplier.
 */
struct gossip_config {
	uint16_t self_id;	 /* not STEER_NODE_NONE */
	struct gossip_addr self; /* address others reach us at */
	struct gossip_key key;	 /* cluster key */
	bool encrypt;		 /* XChaCha20-Poly1305 instead of HMAC */
	/* [200] One round-robin probe per interval. */
	uint32_t probe_interval_ms;
	/* [100] Direct ack wait, then a second ping and ping-reqs; as long
	 * again for the indirect acks. At most probe_interval_ms. */
	uint32_t probe_timeout_ms;
	/* [3] Ping-req helpers; confirmations that bring a suspicion's
	 * timeout down to its minimum. */
	uint32_t indirect_k;
	/* [8] Members expected to re-probe a suspect at once when they
	 * hear of it (their failures are the confirmations). */
	uint32_t verifiers;
	/* [2] Minimum suspicion timeout: mult * log10(N) * interval
	 * (N below 10 counts as 10). */
	uint32_t suspicion_mult;
	/* [6] Maximum suspicion timeout (no confirmation): this * min. */
	uint32_t suspicion_max_mult;
	/* [8] Transmissions of an update by each node, pushes included:
	 * mult * ceil(log10(N + 1)); a node misses an update with odds of
	 * about e^-transmissions, anti-entropy repairs what it misses. */
	uint32_t retransmit_mult;
	/* [3] Members a fresh update is pushed to at once (0: none, the
	 * gossip rounds carry everything); receivers push what is news to
	 * them in turn. At most 16. */
	uint32_t push_fanout;
	/* [1] Fresh updates are gathered this long into one push (0: at
	 * the end of the call that made them). */
	uint32_t push_delay_ms;
	/* [200] Gossip rounds: queued updates to gossip_fanout members. */
	uint32_t gossip_interval_ms;
	/* [3] At most 16. */
	uint32_t gossip_fanout;
	/* [30000] Anti-entropy period (jittered +-50%). */
	uint32_t sync_interval_ms;
	/* [300000] Forget dead and left members after this. */
	uint32_t dead_reclaim_ms;
	/* [300000] Forget closed sessions after this. */
	uint32_t tombstone_ms;
	/* [8] Lifeguard local health ceiling: probe interval and timeouts
	 * stretch up to (max_health + 1) times. At most 64. */
	uint32_t max_health;
	/* [64] Datagrams per anti-entropy push. */
	uint32_t max_sync_dgrams;
	/* [FLOOD] How session records spread; every node of a cluster
	 * must use the same. */
	enum gossip_ownership ownership;
	/* [2] Directory: homes per session, 1..GOSSIP_DIR_HOMES_MAX. */
	uint32_t dir_homes;
	/* [30000] Directory: owners send their sessions to the homes again
	 * this often (jittered +-25%), the directory's anti-entropy. */
	uint32_t dir_refresh_ms;
	/* [150000] Directory: a record this node neither owns nor had
	 * refreshed for this long is forgotten (above dir_refresh_ms). */
	uint32_t dir_expire_ms;
	/* Directory: the cluster's flow-hash secret, so every node (and
	 * the fast path) finds the same homes. */
	struct steer_hash_secret dir_secret;
	/* First datagram sequence: must exceed any this node id ever sent
	 * (e.g. the wall clock in microseconds). */
	uint64_t seq_start;
	/* PRNG seed; 0 draws one. */
	uint64_t seed;
};

/* Counters; rx[] by enum gossip_rx_reason (rx[GOSSIP_RX_OK]: accepted). */
struct gossip_counters {
	uint64_t rx[GOSSIP_RX_REASONS];
	uint64_t rx_unknown_updates;
	uint64_t rx_misdirected; /* ping for another node id */
	uint64_t tx;
	uint64_t tx_err;
	uint64_t probes;
	uint64_t probes_failed;
	uint64_t ping_reqs;
	uint64_t suspicions;	 /* members we marked suspect */
	uint64_t refutes;	 /* suspicions of ourselves refuted */
	uint64_t syncs;		 /* anti-entropy exchanges started */
	uint64_t sync_updates;	 /* updates that changed state via sync */
	uint64_t dissem_dropped; /* queue overflow */
	uint64_t pushes;	 /* datagrams of fresh updates pushed */
	uint64_t verify_probes;	 /* out-of-turn probes of suspects */
	uint64_t told; /* members told directly we hold them suspect/dead */
	/* Directory (zero when flooding): */
	uint64_t dir_sent;	 /* records sent to one home or taught node */
	uint64_t dir_refreshes;	 /* walks of our sessions to their homes */
	uint64_t dir_taught;	 /* records taught to an ingress */
	uint64_t dir_forwarded;	 /* changes passed on to taught nodes */
	uint64_t dir_expired;	 /* records forgotten, unrefreshed */
	uint64_t dir_dropped;	 /* records not queued: outbox full */
	uint64_t hints_sent;	 /* hint updates sent (copies counted) */
	uint64_t hints_in;	 /* hints received and passed on */
	uint64_t hints_refused;	 /* hints not from their session's owner */
	uint64_t orders_sent;	 /* operators' orders sent (not copies) */
	uint64_t orders_in;	 /* orders for us, passed on once */
	uint64_t orders_refused; /* not for us, or not from their sender */
	uint64_t asks_sent;	 /* sessions asked after (not datagrams) */
	uint64_t asks_limited;	 /* asks not sent: over GOSSIP_ASK_RATE */
	uint64_t asks_in;	 /* asks received */
	uint64_t asks_answered;	 /* of those, about a session of ours */
	uint64_t asks_refused;	 /* asker not the datagram's sender */
};

/* Latency histograms of what this node saw of its members. */
struct gossip_hists {
	struct hist suspect_dead;    /* suspected, then known dead */
	struct hist suspect_refuted; /* suspected, then alive again */
};

void gossip_config_default(struct gossip_config *c);

/*
 * Create a node. io->now_ms and io->send are required. Returns NULL with
 * errno EINVAL for a bad configuration, ENOMEM, or EIO when libsodium
 * cannot initialise.
 */
struct gossip *gossip_new(const struct gossip_config *cfg,
			  const struct gossip_io *io,
			  const struct gossip_events *ev);
void gossip_free(struct gossip *g);

/*
 * Join through seeds: push-pull our state with each of them, repeated
 * every probe interval until some member answers. Returns 0 or -EINVAL.
 */
int gossip_join(struct gossip *g, const struct gossip_addr *seeds, uint32_t n);

/*
 * Leave gracefully: tell members we left (a few gossip rounds of it are
 * sent by later ticks); after that the node only answers pings so as not
 * to be suspected while the news spreads. Returns 0 or -EALREADY.
 */
int gossip_leave(struct gossip *g);

/*
 * Handle one received datagram. from is the datagram's source (answers
 * go there). Returns 0 when accepted, or -EBADMSG (counted in rx[] by
 * reason; nothing else changes).
 */
int gossip_recv(struct gossip *g, const void *buf, size_t len,
		const struct gossip_addr *from);

/* Run timers due at now_ms(): probes, suspicions, pushes, gossip, sync. */
void gossip_tick(struct gossip *g);

/*
 * Time (io clock) by which gossip_tick() must run again. Every call that
 * changes the node (gossip_recv, gossip_join, gossip_leave, announces,
 * closes, load reports) may bring it earlier: read it again after each.
 * Right after gossip_tick() it is later than now_ms().
 */
uint64_t gossip_next_deadline(const struct gossip *g);

/*
 * Announce a session established (or closed) with an owner and epoch.
 * A change is pushed to a few members within push_delay_ms (a burst of
 * announces in that time goes out together), and they pass it on at
 * once. Returns 0, -EINVAL for owner STEER_NODE_NONE, -ENOMEM.
 */
int gossip_session_announce(struct gossip *g, const struct flow_key *key,
			    uint16_t owner, uint32_t epoch);
int gossip_session_close(struct gossip *g, const struct flow_key *key,
			 uint16_t owner, uint32_t epoch);
/* Returns 0 and fills out, or -ENOENT. */
int gossip_session_lookup(const struct gossip *g, const struct flow_key *key,
			  struct gossip_session_info *out);
uint32_t gossip_session_count(const struct gossip *g, bool established_only);

/* Bytes the session table holds: its records and its bucket array (the
 * allocator's own overhead left out). */
uint64_t gossip_session_bytes(const struct gossip *g);

/*
 * Call fn for every session held (tombstones of closed ones included),
 * with the time since it last changed. fn returns 0 to go on; anything
 * else stops the walk and is returned. fn must not call into the node.
 */
typedef int (*gossip_session_fn)(const struct gossip_session_info *s,
				 uint64_t age_ms, void *arg);
int gossip_session_walk(const struct gossip *g, gossip_session_fn fn,
			void *arg);

/*
 * Directory: the homes of a flow, best first, at most max (up to
 * dir_homes); returns how many (0 when flooding or alone).
 */
uint32_t gossip_dir_homes(struct gossip *g, const struct flow_key *key,
			  uint16_t *out, uint32_t max);
/* The same for a shard (flow hash & (STEER_SHARDS - 1)): the fast path's
 * map of where unknown sessions go. */
uint32_t gossip_dir_shard_homes(struct gossip *g, uint32_t shard, uint16_t *out,
				uint32_t max);
/*
 * Directory: send node `to` our record of key, and pass it later
 * changes of the record (a home teaching an ingress that re-routed one
 * of its packets). 0, -ENOENT (no established record, or its owner is
 * `to`), -EINVAL (flooding, or `to` unknown).
 */
int gossip_dir_teach(struct gossip *g, const struct flow_key *key, uint16_t to);

/*
 * Send a migration hint about one of our sessions (h->owner is set to us)
 * to nodes to[0..n-1], copies times each (more for likelier moves: a
 * lost datagram then costs less), direct, within push_delay_ms. Hints
 * only pre-warm a receiver's cache; ownership still comes from records.
 * 0, -EINVAL for a hint out of its bounds or copies outside
 * 1..GOSSIP_HINT_COPIES_MAX.
 */
#define GOSSIP_HINT_COPIES_MAX 4
int gossip_hint_send(struct gossip *g, const uint16_t *to, uint32_t n,
		     const struct gossip_hint_update *h, uint32_t copies);

/*
 * Send node `to` an operator's order (enum gossip_order_op), direct, in
 * GOSSIP_ORDER_COPIES copies at once (the receiver applies it once).
 * 0, -EINVAL (a bad op, or `to` is us), -ENOENT (`to` unknown),
 * -EHOSTUNREACH (`to` is dead or left).
 */
#define GOSSIP_ORDER_COPIES 3
int gossip_order_send(struct gossip *g, uint16_t to, uint8_t op);

/* Asks sent a second at most (gossip_dir_ask()), and in one burst. */
#define GOSSIP_ASK_RATE 32

/*
 * Directory: ask every other live member who owns session `key` (this
 * node, a home, was sent a packet of it and holds no record). Its owner
 * sends the record to the session's homes and to this node. At most
 * GOSSIP_ASK_RATE a second, in bursts of as many. Returns 0, -EINVAL
 * (flooding, or a bad key), -EAGAIN (over the rate: counted).
 */
int gossip_dir_ask(struct gossip *g, const struct flow_key *key);

/*
 * Send node `to` our record of key, direct (whatever the ownership
 * mode): the new owner of a session moved to it learns so at once.
 * 0, -ENOENT (no record), -EINVAL (`to` unknown or ourselves).
 */
int gossip_session_tell(struct gossip *g, const struct flow_key *key,
			uint16_t to);

/*
 * The replay windows, to keep across a restart (gossip_auth.h): the
 * highest sequence received from each sender, and at a start the floors
 * read back, so that no datagram received before the restart is taken
 * again. 0 or -ENOMEM.
 */
int gossip_replay_tops(const struct gossip *g,
		       int (*fn)(uint16_t sender, uint64_t top, void *arg),
		       void *arg);
int gossip_replay_restore(struct gossip *g, uint16_t sender, uint64_t floor);

/* Publish our load; cpu and memory in permille (0..1000). -EINVAL. */
int gossip_load_report(struct gossip *g, uint16_t cpu_permille,
		       uint16_t mem_permille, uint64_t bandwidth_bps,
		       uint32_t sessions);

/*
 * Whether this node has left the ingress set (drained): said in every
 * load report from the next one on (GOSSIP_LOAD_F_DRAINED).
 */
void gossip_drained_set(struct gossip *g, bool drained);
/* Whether this drained node is warming up to rejoin the ingress set:
 * said the same way (GOSSIP_LOAD_F_JOINING). */
void gossip_joining_set(struct gossip *g, bool joining);

/*
 * Publish our load forecast (f's node and seq are ours, filled in here):
 * -EINVAL for fields out of their bounds (gossip_forecast_update).
 * Members that do not know the update kind skip it.
 */
int gossip_forecast_report(struct gossip *g,
			   const struct gossip_forecast_update *f);

/* Returns 0 and fills out (self included), or -ENOENT. */
int gossip_member_get(const struct gossip *g, uint16_t id,
		      struct gossip_member_info *out);
/* Members in a state (self counts as alive). */
uint32_t gossip_member_count(const struct gossip *g, enum gossip_state st);
/* Up to max members into out, sorted by id; returns how many in all. */
uint32_t gossip_members(const struct gossip *g, struct gossip_member_info *out,
			uint32_t max);

/* Has the node heard from another member since it joined (or was it
 * never told to join)? Its member table is then worth acting on. */
bool gossip_joined(const struct gossip *g);

uint32_t gossip_incarnation(const struct gossip *g);
uint32_t gossip_health(const struct gossip *g);
const struct gossip_counters *gossip_counters(const struct gossip *g);
const struct gossip_hists *gossip_hists(const struct gossip *g);

#endif /* STEER_GOSSIP_H */
