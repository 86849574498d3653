/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small single-threaded event loop: file events on descriptors (epoll),
 * timers (one-shot and periodic, millisecond resolution, CLOCK_MONOTONIC)
 * and signals (signalfd), behind one interface.
 *
 * Every callback runs on the thread that calls evloop_run() or
 * evloop_run_once(), one at a time, so modules plugged into the loop (the
 * admin socket, gossip_tick/gossip_recv, the XDP map sweeps) need no locks.
 * Callbacks may add and remove any event, their own included, and may
 * call evloop_stop(). A callback must not block.
 *
 * Not thread-safe: one loop belongs to one thread.
 */
#ifndef STEER_EVLOOP_H
#define STEER_EVLOOP_H

#include <stdint.h>

#define EVLOOP_READ 0x1u
#define EVLOOP_WRITE 0x2u
#define EVLOOP_ERROR 0x4u /* passed to callbacks only: hang-up or error */

struct evloop;

/*
 * events: EVLOOP_READ and/or EVLOOP_WRITE that are ready, plus
 * EVLOOP_ERROR when the peer hung up or the descriptor failed (a read
 * then returns 0 or the error).
 */
typedef void (*evloop_fd_fn)(struct evloop *el, int fd, uint32_t events,
			     void *arg);
/* id is the timer's, as evloop_timer_add() returned it. */
typedef void (*evloop_timer_fn)(struct evloop *el, int64_t id, void *arg);
typedef void (*evloop_signal_fn)(struct evloop *el, int signo, void *arg);

/* NULL with errno set (EMFILE, ENFILE or ENOMEM from epoll_create1). */
struct evloop *evloop_new(void);

/*
 * Release the loop. Descriptors registered with evloop_fd_add() are not
 * closed (they belong to their callers). Signals taken by
 * evloop_signal_add() are discarded if pending and the thread's signal
 * mask is put back as it was before the first of them. NULL is fine.
 */
void evloop_free(struct evloop *el);

/* Milliseconds of CLOCK_MONOTONIC: the clock every timer runs on. */
uint64_t evloop_now_ms(void);

/* The same clock in nanoseconds (bpf_ktime_get_ns()'s). */
uint64_t evloop_now_ns(void);

/*
 * Watch fd for mask (EVLOOP_READ | EVLOOP_WRITE; 0 is allowed and waits
 * for errors only). Returns 0; -EINVAL for a negative fd or unknown mask
 * bits; -EEXIST when fd is already watched; -ENOMEM; or the errno of
 * epoll_ctl (-EPERM for a regular file, which epoll cannot watch).
 */
int evloop_fd_add(struct evloop *el, int fd, uint32_t mask, evloop_fd_fn fn,
		  void *arg);

/* Change what fd is watched for. 0, -ENOENT when not watched, -EINVAL. */
int evloop_fd_mod(struct evloop *el, int fd, uint32_t mask);

/*
 * Stop watching fd; call before closing it. Returns 0 or -ENOENT. Events
 * of fd already collected in this round are not delivered, even if fd is
 * added again in between.
 */
int evloop_fd_del(struct evloop *el, int fd);

/*
 * Call fn after delay_ms, then, when period_ms > 0, every period_ms after
 * that until evloop_timer_del(). A periodic timer that falls behind
 * (a long callback, a suspended process) fires once and resumes its
 * period from now: missed ticks are not replayed. Timers due at the same
 * millisecond fire in the order they were added. Returns the timer's id
 * (> 0), or -ENOMEM.
 */
int64_t evloop_timer_add(struct evloop *el, uint64_t delay_ms,
			 uint64_t period_ms, evloop_timer_fn fn, void *arg);

/*
 * Cancel a timer; a one-shot timer that already fired is gone. Returns 0
 * or -ENOENT.
 */
int evloop_timer_del(struct evloop *el, int64_t id);

/*
 * Deliver signo through the loop instead of its handler: the signal is
 * blocked in the calling thread and read from a signalfd, so fn runs as
 * a normal callback. Returns 0; -EINVAL for a signal that cannot be
 * caught (SIGKILL, SIGSTOP) or out of range; -EEXIST when signo already
 * has a callback; or the errno of signalfd/sigprocmask.
 */
int evloop_signal_add(struct evloop *el, int signo, evloop_signal_fn fn,
		      void *arg);

/*
 * Make evloop_run() return once the current callback returns; no further
 * event of this round is delivered. Safe from any callback and before
 * evloop_run() (which then returns at once).
 */
void evloop_stop(struct evloop *el);

/*
 * Dispatch events until evloop_stop(). Returns 0 when stopped, or the
 * negative errno of epoll_wait (EINTR is retried). The stop request is
 * consumed, so the loop may be run again.
 */
int evloop_run(struct evloop *el);

/*
 * One round: wait up to timeout_ms (-1: until the next timer or event,
 * 0: do not wait), then dispatch what is ready and every timer due.
 * Returns the number of callbacks run, or a negative errno. An
 * evloop_stop() from a callback ends the round early and is consumed.
 * For tests and callers that interleave the loop with their own work.
 */
int evloop_run_once(struct evloop *el, int timeout_ms);

#endif /* STEER_EVLOOP_H */
