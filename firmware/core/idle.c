/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The means of the worker's idle sleep (idle.h): an epoll instance of the worker's own, on
 * the rx interrupt of every started port and on an eventfd, the "kick", that the control
 * thread writes when it queues packets or work for a sleeping worker.
 *
 * Level-triggered, not DPDK's edge-triggered rx interrupt registration: net_tap reads its
 * queues only after its signal handler ran (its "trigger"), and that signal may be handled
 * by another thread a little after the worker woke up. With an edge, a worker that polled
 * before the handler ran and went back to sleep would not wake again for that packet; with
 * a level, epoll returns as long as the queue holds one, so no packet ever waits for the
 * timeout. Only drivers whose interrupt needs no read to clear it can be waited on this way
 * (dp_idle_driver_interrupts): net_tap (the queue's own file descriptor) and mlx5 (a CQ
 * event channel, acknowledged by rte_eth_dev_rx_intr_disable). Other drivers' ports pause.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "ctl.h"
#include "idle.h"
#include "port.h"
#include "worker.h"

#define KICK_TAG UINT32_MAX /* epoll data of the kick; a port's is its id */

uint8_t dp_idle_mode;
struct dp_idle_stats dp_idle_stats;
uint64_t dp_idle_asleep_cycles;

static int kick_fd = -1;
static uint32_t ports_gen = 1; /* the worker's copy starts at 0: it reads the ports first */

bool dp_idle_driver_interrupts(const char *driver)
{
	static const char *const drivers[] = {"net_tap", "mlx5_pci", "net_mlx5"};

	for (unsigned int i = 0; i < RTE_DIM(drivers); i++)
		if (strcmp(driver, drivers[i]) == 0)
			return true;
	return false;
}

int dp_idle_setup(uint8_t mode)
{
	if (mode > DP_IDLE_BUSY)
		return -EINVAL;
	dp_idle_mode = mode;
	memset(&dp_idle_stats, 0, sizeof(dp_idle_stats));
	dp_idle_asleep_cycles = 0;
	if (mode != DP_IDLE_INTERRUPT)
		return 0;
	kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return kick_fd < 0 ? -errno : 0;
}

void dp_idle_teardown(void)
{
	if (kick_fd >= 0)
		close(kick_fd);
	kick_fd = -1;
}

void dp_worker_kick(void)
{
	static const uint64_t one = 1;

	/* pairs with the fence between the worker saying it sleeps and its last look for work:
	 * either that look finds what the caller queued, or the caller sees it sleeping */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (kick_fd < 0 || !__atomic_load_n(&dp_worker.sleeping, __ATOMIC_RELAXED))
		return;
	if (write(kick_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		__atomic_fetch_add(&dp_idle_stats.kicks, 1, __ATOMIC_RELAXED);
}

void dp_idle_ports_changed(void)
{
	__atomic_fetch_add(&ports_gen, 1, __ATOMIC_RELEASE);
	dp_worker_kick(); /* a sleeping worker would not hear the new port */
}

static void rt_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(&set, sig);
	pthread_sigmask(how, &set, NULL);
}

void dp_idle_signals_block(void)
{
	rt_signals(SIG_BLOCK);
}

void dp_idle_signals_take(void)
{
	rt_signals(SIG_UNBLOCK);
}

void dp_idle_worker_init(struct dp_idle_ports *ports)
{
	memset(ports, 0, sizeof(*ports));
	ports->epfd = -1;
}

void dp_idle_worker_fini(struct dp_idle_ports *ports)
{
	if (ports->epfd >= 0)
		close(ports->epfd);
	ports->epfd = -1;
}

static bool epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/* A new epoll instance for the started ports: ports change seldom, and a stopped port's
 * descriptor must not linger in it. */
static void ports_read(struct dp_idle_ports *ports)
{
	int fd;

	ports->nb = ports->nb_none = 0;
	if (ports->epfd >= 0)
		close(ports->epfd);
	ports->epfd = dp_idle_mode == DP_IDLE_INTERRUPT ? epoll_create1(EPOLL_CLOEXEC) : -1;
	if (ports->epfd >= 0 && !epoll_add(ports->epfd, kick_fd, KICK_TAG)) {
		close(ports->epfd);
		ports->epfd = -1;
	}
	/* a port is stopped only after rx_enabled is cleared and this worker passed a
	 * quiescent state, so none stops while this (online) loop reads it */
	for (uint16_t port_id = 0; port_id < DP_MAX_PORTS; port_id++) {
		if (!dp_ports[port_id].configured || !dp_port_rx_enabled(port_id))
			continue;
		fd = dp_ports[port_id].rx_intr ? rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, 0) : -1;
		if (ports->epfd >= 0 && fd >= 0 && epoll_add(ports->epfd, fd, port_id))
			ports->ports[ports->nb++] = port_id;
		else
			ports->nb_none++;
	}
}

bool dp_idle_ports_refresh(struct dp_idle_ports *ports)
{
	uint32_t gen = __atomic_load_n(&ports_gen, __ATOMIC_ACQUIRE);

	if (gen != ports->gen) {
		ports->gen = gen;
		ports_read(ports);
		__atomic_store_n(&dp_idle_stats.intr_ports, ports->nb, __ATOMIC_RELAXED);
		__atomic_store_n(&dp_idle_stats.nointr_ports, ports->nb_none, __ATOMIC_RELAXED);
	}
	return ports->epfd >= 0 && ports->nb_none == 0;
}

bool dp_idle_ports_stale(const struct dp_idle_ports *ports)
{
	return __atomic_load_n(&ports_gen, __ATOMIC_ACQUIRE) != ports->gen;
}

/* net_tap has no arming (its queue's descriptor is the interrupt): -ENOTSUP is fine */
void dp_idle_intr_arm(const struct dp_idle_ports *ports)
{
	for (uint16_t i = 0; i < ports->nb; i++)
		rte_eth_dev_rx_intr_enable(ports->ports[i], 0);
}

void dp_idle_intr_disarm(const struct dp_idle_ports *ports)
{
	for (uint16_t i = 0; i < ports->nb; i++)
		rte_eth_dev_rx_intr_disable(ports->ports[i], 0);
}

/*
 * A port whose descriptor reports an error or a hang-up (a TAP whose kernel interface went
 * away, with the VM's network namespace) would wake every sleep at once, forever: it leaves
 * the epoll set and counts as a port without interrupts (the worker pauses instead) until
 * the ports change.
 */
static void port_gone(struct dp_idle_ports *ports, uint16_t port_id)
{
	int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, 0);

	if (fd >= 0)
		epoll_ctl(ports->epfd, EPOLL_CTL_DEL, fd, NULL);
	for (uint16_t i = 0; i < ports->nb; i++)
		if (ports->ports[i] == port_id) {
			ports->ports[i] = ports->ports[--ports->nb];
			ports->nb_none++;
			break;
		}
	__atomic_store_n(&dp_idle_stats.intr_ports, ports->nb, __ATOMIC_RELAXED);
	__atomic_store_n(&dp_idle_stats.nointr_ports, ports->nb_none, __ATOMIC_RELAXED);
}

int dp_idle_wait(struct dp_idle_ports *ports, int timeout_ms)
{
	struct epoll_event events[8];
	uint64_t count;
	int n;

	n = epoll_wait(ports->epfd, events, RTE_DIM(events), timeout_ms);
	if (n < 0) /* EINTR: net_tap's signal, sent per packet; the poll that follows sees */
		return errno == EINTR ? 1 : -errno;
	for (int i = 0; i < n; i++) {
		if (events[i].data.u32 == KICK_TAG) {
			if (read(kick_fd, &count, sizeof(count)) < 0)
				continue; /* EAGAIN: nothing left to drain */
		} else if (unlikely(events[i].events & (EPOLLERR | EPOLLHUP))) {
			port_gone(ports, (uint16_t)events[i].data.u32);
		}
	}
	return n;
}

int dp_idle_stats_get(struct dp_idle_stats *stats)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t cycles = __atomic_load_n(&dp_idle_asleep_cycles, __ATOMIC_RELAXED);

	DP_CTL_CHECK();
	stats->sleeps = __atomic_load_n(&dp_idle_stats.sleeps, __ATOMIC_RELAXED);
	stats->wakeups = __atomic_load_n(&dp_idle_stats.wakeups, __ATOMIC_RELAXED);
	stats->timeouts = __atomic_load_n(&dp_idle_stats.timeouts, __ATOMIC_RELAXED);
	stats->kicks = __atomic_load_n(&dp_idle_stats.kicks, __ATOMIC_RELAXED);
	stats->pauses = __atomic_load_n(&dp_idle_stats.pauses, __ATOMIC_RELAXED);
	stats->asleep_ns = hz ? (uint64_t)((double)cycles * 1e9 / (double)hz) : 0;
	stats->intr_ports = __atomic_load_n(&dp_idle_stats.intr_ports, __ATOMIC_RELAXED);
	stats->nointr_ports = __atomic_load_n(&dp_idle_stats.nointr_ports, __ATOMIC_RELAXED);
	return 0;
}
