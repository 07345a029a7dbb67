/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the worker needs to sleep when idle (--idle): the rx interrupts of the started ports,
 * a "kick" the control thread gives when it queues work for a sleeping worker, and the
 * counters of how the idle time was spent. The policy (when to sleep) is the worker loop's.
 */
#ifndef DP_IDLE_H
#define DP_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/core.h>

extern uint8_t dp_idle_mode; /* enum dp_idle_mode; fixed while the dataplane runs */
/* counters: the worker writes them (kicks: any thread), control reads them; asleep_ns unused */
extern struct dp_idle_stats dp_idle_stats;
extern uint64_t dp_idle_asleep_cycles; /* asleep_ns, in TSC cycles */

/*
 * net_tap announces each packet with a real-time signal, and reads a queue only once its
 * handler has run. Delivered to whichever thread does not block it (the main thread, first),
 * a sleeping worker would wait for that thread to be scheduled: milliseconds on a busy host.
 * So every thread blocks the real-time signals (dp_eal_init calls the first function before
 * EAL creates its threads, which inherit the mask, as do those the caller creates later)
 * and the worker alone takes them: the signal interrupts its sleep and its handler has run
 * when the worker polls. Python and gRPC use no real-time signals.
 */
void dp_idle_signals_block(void);
void dp_idle_signals_take(void); /* worker */

/* Control: before the worker starts, and after it stopped. */
int dp_idle_setup(uint8_t mode);
void dp_idle_teardown(void);
/* Control: a port was started or stopped; the worker re-reads the started ports. */
void dp_idle_ports_changed(void);

/* Control, at port configuration: does the port's driver give rx interrupts the worker can
 * sleep on? (net_tap and mlx5: see idle.c) */
bool dp_idle_driver_interrupts(const char *driver);

/* The started ports, as the worker last read them, and its epoll instance (worker only). */
struct dp_idle_ports {
	uint32_t gen;     /* dp_idle_ports_changed() count when read */
	int epfd;         /* the kick and the rx interrupts of ports[] */
	uint16_t nb;      /* ports that can interrupt */
	uint16_t nb_none; /* started ports that cannot */
	uint16_t ports[DP_MAX_PORTS];
};

/* Worker: at its start and end. */
void dp_idle_worker_init(struct dp_idle_ports *ports);
void dp_idle_worker_fini(struct dp_idle_ports *ports);
/* Worker: re-read the started ports if they changed; true if every one can interrupt. */
bool dp_idle_ports_refresh(struct dp_idle_ports *ports);
/* Worker: a port was started or stopped since the ports were read. */
bool dp_idle_ports_stale(const struct dp_idle_ports *ports);
void dp_idle_intr_arm(const struct dp_idle_ports *ports);
void dp_idle_intr_disarm(const struct dp_idle_ports *ports);
/* Worker: wait for an interrupt, a kick or the timeout; > 0 if woken by an event. */
int dp_idle_wait(struct dp_idle_ports *ports, int timeout_ms);

#endif
