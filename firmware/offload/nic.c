/* SPDX-License-Identifier: Apache-2.0 */
/* The NIC's side of offload (nic.h): isolation, the ports' default rules, flows' twins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include <dplane/core.h>

#include "ctl.h"
#include "fastpath.h"
#include "nic.h"
#include "port.h"
#include "swflow.h"

struct nic_port {
	/* control thread's */
	bool isolate;               /* a PF in rte_flow_isolate mode (set before its start) */
	struct rte_flow *isolation; /* its underlay rule, while started */
	/* the isolation rule's table, with the template API (a multiport e-switch) */
	struct rte_flow_pattern_template *pattern_tmpl;
	struct rte_flow_actions_template *actions_tmpl;
	struct rte_flow_template_table *table;
	struct rte_flow *jump; /* the default rule (group 0 -> 2), while started */
	bool captured;
	char isolation_error[96];
	char error[96];
	/* read by the worker: the NIC takes this port's flows' rules */
	uint8_t carrying;
	/* the worker's: it said so once */
	uint8_t refusal_logged;
};

static bool nic_on, nic_offload;
static bool nic_async; /* the NIC takes the template API only (a multiport e-switch) */
static uint8_t nic_underlay[16];
static struct nic_port nic_ports[DP_MAX_PORTS];
/* the worker's counts */
static uint64_t nic_installs, nic_refusals, nic_needs_hairpin;

static inline void count(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* What the PMD said at which step, for operators: "rte_flow_isolate: <its message>". */
static void say(char *buf, size_t size, const char *step, const struct rte_flow_error *error,
		int ret)
{
	snprintf(buf, size, "%s: %s", step,
		 error->message ? error->message : rte_strerror(ret < 0 ? -ret : ret));
}

bool dp_nic_enabled(void)
{
	return nic_on;
}

/* -- the template (async) API: a multiport e-switch (mlx5's HW steering) takes rules through
 * template tables and a queue of operations, set up before the port starts ------------- */

#define ASYNC_QUEUE 0
#define ASYNC_QUEUE_SIZE 64
#define ASYNC_PULL_TRIES 1000 /* 100 us apart: the NIC has 100 ms to answer */

static int async_configure(uint16_t port_id, struct rte_flow_error *error)
{
	const struct rte_flow_port_attr port_attr = {0};
	const struct rte_flow_queue_attr queue_attr = {.size = ASYNC_QUEUE_SIZE};
	const struct rte_flow_queue_attr *queues[] = {&queue_attr};

	return rte_flow_configure(port_id, &port_attr, RTE_DIM(queues), queues, error);
}

/* Push the queued operation and wait for its result. */
static int async_commit(uint16_t port_id, struct rte_flow_error *error)
{
	struct rte_flow_op_result result;
	int ret = rte_flow_push(port_id, ASYNC_QUEUE, error);

	for (unsigned int i = 0; ret == 0 && i < ASYNC_PULL_TRIES; i++) {
		ret = rte_flow_pull(port_id, ASYNC_QUEUE, &result, 1, error);
		if (ret == 1)
			return result.status == RTE_FLOW_OP_SUCCESS
				       ? 0
				       : rte_flow_error_set(error, EIO,
							    RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
							    "the NIC failed the operation");
		rte_delay_us_sleep(100);
	}
	if (ret == 0)
		ret = rte_flow_error_set(error, ETIMEDOUT, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL,
					 "the NIC did not answer");
	return ret;
}

static void async_table_destroy(uint16_t port_id, struct nic_port *np)
{
	struct rte_flow_error error;

	if (np->table)
		rte_flow_template_table_destroy(port_id, np->table, &error);
	if (np->actions_tmpl)
		rte_flow_actions_template_destroy(port_id, np->actions_tmpl, &error);
	if (np->pattern_tmpl)
		rte_flow_pattern_template_destroy(port_id, np->pattern_tmpl, &error);
	np->table = NULL;
	np->actions_tmpl = NULL;
	np->pattern_tmpl = NULL;
}

/* The rule of spec through a one-rule table of its shape: the pattern's masks, and its
 * actions fixed (masked by themselves). */
static struct rte_flow *async_create(uint16_t port_id, struct nic_port *np,
				     const struct dp_isolation_spec *spec,
				     struct rte_flow_error *error)
{
	const struct rte_flow_pattern_template_attr pattern_attr = {.ingress = 1};
	const struct rte_flow_actions_template_attr actions_attr = {.ingress = 1};
	const struct rte_flow_template_table_attr table_attr = {.flow_attr = spec->attr,
								.nb_flows = 1};
	const struct rte_flow_op_attr op = {.postpone = 1};
	struct rte_flow_item masks[RTE_DIM(spec->pattern)];
	struct rte_flow *flow;

	for (unsigned int i = 0; i < RTE_DIM(masks); i++)
		masks[i] = (struct rte_flow_item){.type = spec->pattern[i].type,
						  .mask = spec->pattern[i].mask};
	np->pattern_tmpl = rte_flow_pattern_template_create(port_id, &pattern_attr, masks, error);
	if (np->pattern_tmpl)
		np->actions_tmpl = rte_flow_actions_template_create(
			port_id, &actions_attr, spec->actions, spec->actions, error);
	if (np->actions_tmpl)
		np->table = rte_flow_template_table_create(port_id, &table_attr, &np->pattern_tmpl,
							   1, &np->actions_tmpl, 1, error);
	if (!np->table) {
		async_table_destroy(port_id, np);
		return NULL;
	}
	flow = rte_flow_async_create(port_id, ASYNC_QUEUE, &op, np->table, spec->pattern, 0,
				     spec->actions, 0, NULL, error);
	if (flow && async_commit(port_id, error) == 0)
		return flow;
	async_table_destroy(port_id, np);
	return NULL;
}

static void async_destroy(uint16_t port_id, struct nic_port *np, struct rte_flow *flow)
{
	const struct rte_flow_op_attr op = {.postpone = 1};
	struct rte_flow_error error = {0};

	if (rte_flow_async_destroy(port_id, ASYNC_QUEUE, &op, flow, NULL, &error) != 0 ||
	    async_commit(port_id, &error) != 0)
		DP_LOG(WARNING, "port %u: the NIC kept its isolation rule: %s", port_id,
		       error.message ? error.message : "?");
	async_table_destroy(port_id, np);
}

/* -- ports ---------------------------------------------------------------------------------- */

int dp_nic_init(bool offload, bool async, const uint8_t underlay[16])
{
	DP_CTL_CHECK();
	memset(nic_ports, 0, sizeof(nic_ports));
	nic_installs = nic_refusals = nic_needs_hairpin = 0;
	nic_on = true;
	nic_offload = offload;
	nic_async = async;
	memcpy(nic_underlay, underlay, sizeof(nic_underlay));
	/* the PFs are stopped: the only time rte_flow_isolate() may be called */
	for (uint16_t i = 0; i < 2; i++) {
		uint16_t p = dp_pf_ports[i];
		const char *step = "rte_flow_configure";
		struct rte_flow_error error = {0};
		int ret;

		if (p == DP_PORT_NONE)
			continue;
		ret = nic_async ? async_configure(p, &error) : 0;
		if (ret == 0) {
			step = "rte_flow_isolate";
			ret = rte_flow_isolate(p, 1, &error);
		}
		if (ret == 0) {
			nic_ports[p].isolate = true;
			continue;
		}
		say(nic_ports[p].isolation_error, sizeof(nic_ports[p].isolation_error), step,
		    &error, ret);
		DP_LOG(ERR, "PF%u (port %u) is not isolated, the kernel's traffic comes here: %s",
		       i, p, nic_ports[p].isolation_error);
	}
	dp_port_started = dp_nic_port_started;
	dp_port_stopping = dp_nic_port_stopping;
	return 0;
}

void dp_nic_fini(void)
{
	/* the ports are closed: their rules went with them */
	dp_port_started = NULL;
	dp_port_stopping = NULL;
	nic_on = false;
	memset(nic_ports, 0, sizeof(nic_ports));
}

/* The PF's isolation rule; if the NIC refuses it, the PF leaves isolation (it runs, with all
 * of its traffic) rather than getting nothing. */
static void isolation_start(uint16_t port_id)
{
	struct nic_port *np = &nic_ports[port_id];
	struct rte_flow_error error = {0};
	struct dp_isolation_spec spec;
	int ret;

	dp_offload_isolation_build(nic_underlay, &spec);
	if (nic_async)
		np->isolation = async_create(port_id, np, &spec, &error);
	else
		np->isolation =
			rte_flow_create(port_id, &spec.attr, spec.pattern, spec.actions, &error);
	if (np->isolation)
		return;
	say(np->isolation_error, sizeof(np->isolation_error), "isolation rule", &error, -rte_errno);
	DP_LOG(ERR, "port %u: no isolation rule for the underlay, leaving isolation: %s", port_id,
	       np->isolation_error);
	np->isolate = false;
	/* rte_flow_isolate() wants the port stopped; the worker does not poll it yet */
	ret = rte_eth_dev_stop(port_id);
	if (ret == 0)
		ret = rte_flow_isolate(port_id, 0, &error);
	if (ret == 0)
		ret = rte_eth_dev_start(port_id);
	if (ret != 0)
		DP_LOG(ERR, "port %u: cannot leave isolation: %s", port_id, rte_strerror(-ret));
}

static void jump_start(uint16_t port_id)
{
	struct nic_port *np = &nic_ports[port_id];
	struct rte_flow_error error = {0};
	struct dp_jump_spec spec;

	dp_offload_jump_build(0, DP_OFFLOAD_GROUP_VNET, NULL, &spec);
	np->jump = rte_flow_create(port_id, &spec.attr, spec.pattern, spec.actions, &error);
	if (!np->jump) {
		say(np->error, sizeof(np->error), "default rule", &error, -rte_errno);
		DP_LOG(WARNING, "port %u: the NIC takes no rules, the engine runs them: %s",
		       port_id, np->error);
		return;
	}
	np->error[0] = 0;
	__atomic_store_n(&np->carrying, 1, __ATOMIC_RELEASE);
}

static void jump_stop(uint16_t port_id)
{
	struct nic_port *np = &nic_ports[port_id];
	struct rte_flow_error error = {0};

	__atomic_store_n(&np->carrying, 0, __ATOMIC_RELEASE);
	if (np->jump && rte_flow_destroy(port_id, np->jump, &error) != 0)
		DP_LOG(WARNING, "port %u: the NIC kept its default rule: %s", port_id,
		       error.message ? error.message : "?");
	np->jump = NULL;
}

void dp_nic_port_started(uint16_t port_id)
{
	if (!nic_on || port_id >= DP_MAX_PORTS)
		return;
	if (nic_ports[port_id].isolate)
		isolation_start(port_id);
	if (nic_offload && !nic_ports[port_id].captured)
		jump_start(port_id);
}

void dp_nic_port_stopping(uint16_t port_id)
{
	struct nic_port *np;
	struct rte_flow_error error = {0};

	if (!nic_on || port_id >= DP_MAX_PORTS)
		return;
	np = &nic_ports[port_id];
	jump_stop(port_id);
	if (np->isolation && nic_async)
		async_destroy(port_id, np, np->isolation);
	else if (np->isolation && rte_flow_destroy(port_id, np->isolation, &error) != 0)
		DP_LOG(WARNING, "port %u: the NIC kept its isolation rule: %s", port_id,
		       error.message ? error.message : "?");
	np->isolation = NULL;
}

void dp_nic_port_capture(uint16_t port_id, bool captured)
{
	if (!nic_on || !nic_offload || port_id >= DP_MAX_PORTS)
		return;
	nic_ports[port_id].captured = captured;
	if (captured)
		jump_stop(port_id); /* its packets come to the engine, and its SAMPLE rule */
	else if (dp_ports[port_id].started)
		jump_start(port_id);
}

static int pf_index(uint16_t port_id)
{
	return dp_ports[port_id].role == DP_PORT_PF ? dp_ports[port_id].pf_index : -1;
}

void dp_nic_offload(struct rte_flow *rule, uint16_t in_port, uint16_t out_port,
		    struct dp_offload_spec *spec)
{
	struct nic_port *np = &nic_ports[in_port];
	struct rte_flow_error error = {0};
	struct rte_flow *nic;

	if (!__atomic_load_n(&np->carrying, __ATOMIC_ACQUIRE))
		return;
	if (!dp_offload_one_eswitch(pf_index(in_port), pf_index(out_port))) {
		count(&nic_needs_hairpin);
		return;
	}
	nic = rte_flow_create(in_port, &spec->attr, spec->pattern, spec->actions, &error);
	if (!nic) {
		count(&nic_refusals);
		if (!np->refusal_logged) {
			np->refusal_logged = 1;
			DP_LOG(WARNING,
			       "port %u: the NIC refused a flow's rule, the engine runs it "
			       "(said once per port): %s",
			       in_port, error.message ? error.message : "no reason given");
		}
		return;
	}
	if (dp_swflow_attach_nic(rule, in_port, nic))
		count(&nic_installs);
}

void dp_nic_stats_get(struct dp_offload_stats *st)
{
	struct dp_swflow_stats s;

	st->nic = nic_on;
	if (!nic_on)
		return;
	st->nic_installs = __atomic_load_n(&nic_installs, __ATOMIC_RELAXED);
	st->nic_refusals = __atomic_load_n(&nic_refusals, __ATOMIC_RELAXED);
	st->nic_needs_hairpin = __atomic_load_n(&nic_needs_hairpin, __ATOMIC_RELAXED);
	if (!dp_swflow_ready())
		return;
	dp_swflow_stats_get(&s);
	st->nic_destroys = s.nic_destroys;
	st->nic_destroy_failures = s.nic_destroy_failures;
	st->nic_rules = s.nic_rules;
}

int dp_nic_port_get(uint16_t port_id, struct dp_offload_nic_port *info)
{
	const struct nic_port *np;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	memset(info, 0, sizeof(*info));
	if (!nic_on)
		return 0;
	np = &nic_ports[port_id];
	info->isolated = np->isolate;
	info->carrying = np->carrying;
	info->captured = np->captured;
	snprintf(info->isolation_error, sizeof(info->isolation_error), "%s", np->isolation_error);
	snprintf(info->error, sizeof(info->error), "%s", np->error);
	return 0;
}
