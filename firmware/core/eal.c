/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL start and stop, and what EAL found.
 *
 * Stopping also removes EAL's runtime directory (/var/run/dpdk/<prefix>/), which
 * rte_eal_cleanup() leaves behind. In the default (shared) memory mode a DPDK 22.11 primary
 * leaves there: `config` (the shared memory config; the primary holds an fcntl write lock on
 * it), `hugepage_info` and, with legacy memory, `hugepage_data`, one `fbarray_*` file per
 * memseg list plus `fbarray_memzone` (each process that maps one holds a shared flock on it
 * until it detaches; a secondary also makes its own `fbarray_*_<pid>`), and the unix sockets
 * `mp_socket` (the primary's; rte_eal_cleanup() unlinks it) and `mp_socket_<pid>_<tsc>` of
 * secondaries (DPDK only unlinks those when a send to them is refused). Only these names are
 * removed, and only when no other process uses any of them: none of the sockets answers and
 * no other process holds a lock on any of the files (/proc/locks tells whose a lock is: EAL
 * keeps its own on fbarray_memzone until exit). A secondary that is still attached thus
 * keeps the directory as it is; one that died leaves nothing that stops the clean-up.
 * Anything else in the directory stays, and so does the directory then.
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include <dplane/core.h>

#include "ctl.h"
#include "idle.h"

static char **eal_argv; /* EAL keeps pointers into it: lives as long as the process */
static bool eal_ready;

int dp_eal_init(int argc, char *const argv[])
{
	int ret, i;

	if (eal_ready || eal_argv)
		return dp_errno(EALREADY);
	if (argc < 1)
		return dp_errno(EINVAL);

	eal_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!eal_argv)
		return dp_errno(ENOMEM);
	for (i = 0; i < argc; i++) {
		eal_argv[i] = strdup(argv[i]);
		if (!eal_argv[i])
			return dp_errno(ENOMEM);
	}

	dp_idle_signals_block(); /* before EAL's threads exist: only the worker takes them */
	ret = rte_eal_init(argc, eal_argv);
	if (ret < 0)
		return dp_errno(rte_errno ? rte_errno : EINVAL);
	dp_ctl_set_thread();
	eal_ready = true;
	return ret;
}

/* The names EAL gives the files of its runtime directory (see the top of this file). */
static bool runtime_file_of_eal(const char *name)
{
	static const char *const patterns[] = {
		"config", "hugepage_info", "hugepage_data", "fbarray_*", "mp_socket", "mp_socket_*",
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(patterns); i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return false;
}

/* A unix socket is alive when connecting to it is not refused. */
static bool socket_alive(const char *dir, const char *name)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	bool alive;
	int fd;

	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, name) >=
	    (int)sizeof(addr.sun_path))
		return true; /* cannot tell: assume someone is there */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	alive = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
		(errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

/* Whether a process other than this one holds (or waits for) a lock of any kind on the file
 * with this device and inode. /proc/locks lists them all with the owner's pid: unlike a
 * trial flock() this tells our own locks (EAL keeps its memzone fbarray locked until exit)
 * from a secondary's. Lines look like "3: FLOCK  ADVISORY  READ  1234 00:19:5678 0 EOF",
 * waiters with "->" after the number. Cannot tell: assume another process. */
static bool locked_by_other(dev_t dev, ino_t ino)
{
	char line[256], *save, *tok;
	unsigned int maj, min;
	unsigned long inode;
	bool other = false;
	long pid;
	FILE *f;
	int i;

	f = fopen("/proc/locks", "re");
	if (!f)
		return true;
	while (!other && fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, " \t\n", &save); /* "3:" */
		tok = tok ? strtok_r(NULL, " \t\n", &save) : NULL;
		if (tok && strcmp(tok, "->") == 0) /* a waiter */
			tok = strtok_r(NULL, " \t\n", &save);
		for (i = 0; tok && i < 3; i++) /* type, then mode, access, pid */
			tok = strtok_r(NULL, " \t\n", &save);
		if (!tok)
			continue;
		pid = strtol(tok, NULL, 10);
		tok = strtok_r(NULL, " \t\n", &save);
		if (!tok || sscanf(tok, "%x:%x:%lu", &maj, &min, &inode) != 3)
			continue;
		other = maj == major(dev) && min == minor(dev) && inode == (unsigned long)ino &&
			pid != (long)getpid();
	}
	fclose(f);
	return other;
}

/* Whether another process uses this file of EAL's: a socket that answers, a file someone
 * else holds a lock on (an fbarray a secondary maps, config of another primary). Anything
 * unexpected (neither a socket nor a regular file) counts as in use. */
static bool runtime_file_in_use(int dir_fd, const char *dir, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno != ENOENT;
	if (S_ISSOCK(st.st_mode))
		return socket_alive(dir, name);
	if (!S_ISREG(st.st_mode))
		return true;
	return locked_by_other(st.st_dev, st.st_ino);
}

/* Remove what EAL left in its runtime directory and the directory itself, and its parent
 * when empty, unless another process still uses any of it. Best effort: what cannot be
 * removed stays. Only a primary does this. */
static void runtime_dir_remove(const char *path)
{
	struct dirent *entry;
	char parent[PATH_MAX];
	bool in_use = false;
	DIR *dir;

	dir = opendir(path);
	if (!dir)
		return;
	/* as EAL does around its own clean-up and socket creation: no one adds or removes
	 * files under us */
	if (flock(dirfd(dir), LOCK_EX) < 0) {
		closedir(dir);
		return;
	}
	while (!in_use && (entry = readdir(dir)) != NULL)
		in_use = runtime_file_of_eal(entry->d_name) &&
			 runtime_file_in_use(dirfd(dir), path, entry->d_name);
	if (in_use) {
		DP_LOG(NOTICE, "%s kept: another DPDK process (a secondary?) still uses it", path);
		closedir(dir);
		return;
	}
	rewinddir(dir);
	while ((entry = readdir(dir)) != NULL)
		if (runtime_file_of_eal(entry->d_name) && strcmp(entry->d_name, "config") != 0)
			unlinkat(dirfd(dir), entry->d_name, 0);
	/* config last: while it exists (and we hold its lock) no new primary starts */
	unlinkat(dirfd(dir), "config", 0);
	closedir(dir); /* drops the directory lock */
	if (rmdir(path) < 0)
		return;
	snprintf(parent, sizeof(parent), "%s", path);
	if (strrchr(parent, '/') && strrchr(parent, '/') != parent) {
		*strrchr(parent, '/') = '\0';
		rmdir(parent); /* /var/run/dpdk, fails harmlessly while others use it */
	}
}

int dp_eal_cleanup(void)
{
	char runtime_dir[PATH_MAX];
	bool primary;
	int ret;

	DP_CTL_CHECK();
	if (!eal_ready)
		return 0;
	dp_core_stop();
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	eal_ready = false;
	ret = rte_eal_cleanup();
	if (primary && runtime_dir[0])
		runtime_dir_remove(runtime_dir);
	if (ret < 0)
		return dp_errno(rte_errno ? rte_errno : EIO);
	return 0;
}

unsigned int dp_lcore_count(void)
{
	return eal_ready ? rte_lcore_count() : 0;
}

/*
 * The DPDK this firmware is built with, as a string that tools/elfcheck.py finds in the built
 * extension's data (DPDK marks its drivers the same way, PMD_INFO_STRING=): the version and
 * the port limit of the rte_config.h it was compiled with, and the size of one entry of
 * ethdev's rte_eth_fp_ops[RTE_MAX_ETHPORTS], by which elfcheck counts the ports of the
 * ethdev archive actually linked (its symbol's size): headers and archives must agree.
 */
#define DP_ETH_FP_OPS_SIZE 128 /* two 64-byte halves (rte_ethdev_core.h) */
static_assert(sizeof(struct rte_eth_fp_ops) == DP_ETH_FP_OPS_SIZE, "rte_eth_fp_ops changed size");

/* clang-format off */
__attribute__((used)) static const char dpdk_build_info[] = "DPLANE_DPDK_INFO= {"
	"\"version\": \"" RTE_STR(RTE_VER_YEAR) "." RTE_STR(RTE_VER_MONTH) "." RTE_STR(RTE_VER_MINOR) "\", "
	"\"max_ethports\": " RTE_STR(RTE_MAX_ETHPORTS) ", "
	"\"fp_ops_size\": " RTE_STR(DP_ETH_FP_OPS_SIZE) "}";
/* clang-format on */

unsigned int dp_max_ethports(void)
{
	/* the linked ethdev's own RTE_MAX_ETHPORTS: it answers any port id beyond with it */
	return rte_eth_find_next(UINT16_MAX - 1);
}

uint16_t dp_ethdev_count(void)
{
	return eal_ready ? rte_eth_dev_count_avail() : 0;
}

int dp_ethdev_get(uint16_t port_id, struct dp_ethdev_info *info)
{
	struct rte_eth_dev_info dev_info;
	struct rte_ether_addr mac;
	char ifname[IF_NAMESIZE];
	int ret;

	DP_CTL_CHECK();
	if (!rte_eth_dev_is_valid_port(port_id))
		return dp_errno(ENODEV);

	memset(info, 0, sizeof(*info));
	info->port_id = port_id;
	ret = rte_eth_dev_info_get(port_id, &dev_info);
	if (ret < 0)
		return dp_errno(-ret);
	ret = rte_eth_dev_get_name_by_port(port_id, info->name);
	if (ret < 0)
		return dp_errno(-ret);
	if (dev_info.driver_name)
		snprintf(info->driver, sizeof(info->driver), "%s", dev_info.driver_name);
	info->if_index = dev_info.if_index;
	if (dev_info.if_index && if_indextoname(dev_info.if_index, ifname))
		snprintf(info->ifname, sizeof(info->ifname), "%s", ifname);
	ret = rte_eth_macaddr_get(port_id, &mac);
	if (ret < 0)
		return dp_errno(-ret);
	memcpy(info->mac, mac.addr_bytes, sizeof(info->mac));
	return 0;
}
