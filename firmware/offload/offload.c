/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offload feature (dplane/offload.h): puts the software flow engine in front of the graph,
 * makes a flow's rules from its packets as they leave (the tx observer), ties the rules to the
 * flow (removed with it, its idle time counted from their hits) and reports them.
 *
 * When a flow's direction gets its rule (the contract's policy): a non-TCP flow's on its first
 * packet each way, a TCP flow's once it is established (its SYN, FIN and RST segments never
 * match, so conntrack sees every change of state). A rule refused by the engine (table full,
 * too many shapes) leaves the flow to the graph, counted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include <dplane/conntrack.h>
#include <dplane/core.h>
#include <dplane/offload.h>

#include "build.h"
#include "ct.h"
#include "ctl.h"
#include "fastpath.h"
#include "mbuf.h"
#include "module.h"
#include "nic.h"
#include "port.h"
#include "swflow.h"

_Static_assert(sizeof(struct swf_pkt) <= sizeof(((struct dp_mbuf_priv *)0)->fastpath),
	       "what the engine reads fits the mbuf's private area");

DP_ENUM_NAME_FN(dp_offload_shape_name, enum dp_offload_shape, DP_OFFLOAD_SHAPE_LIST,
		DP_OFFLOAD_SHAPE_COUNT)
DP_ENUM_NAME_FN(dp_offload_refusal_name, enum dp_offload_refusal, DP_OFFLOAD_REFUSAL_LIST,
		DP_OFFLOAD_REFUSAL_COUNT)

static bool offload_on;
static uint32_t offload_max_rules;
static bool nic_conf;  /* the NIC takes rules (nic.h) */
static bool nic_async; /* through the template API only */
static uint8_t nic_underlay[16];
/* per conntrack flow, per direction: its rule (the worker sets, the control thread clears) */
static struct rte_flow *(*flow_rules)[2];
/* the worker's counts */
static uint64_t refused_by_reason[DP_OFFLOAD_REFUSAL_COUNT];
static uint64_t installed_by_shape[DP_OFFLOAD_SHAPE_COUNT];

int dp_offload_conf_set(bool enabled, uint32_t max_rules)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	offload_on = enabled;
	offload_max_rules = max_rules;
	return 0;
}

bool dp_offload_enabled(void)
{
	return offload_on;
}

int dp_offload_nic_conf_set(bool nic, bool async, const uint8_t underlay[16])
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	nic_conf = nic;
	nic_async = async;
	memcpy(nic_underlay, underlay, sizeof(nic_underlay));
	return 0;
}

static inline void count(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static uint32_t age_of(const struct dp_ct_flow *flow)
{
	return flow->key[0].k.proto == IPPROTO_TCP && flow->tcp_state == DP_CT_TCP_ESTABLISHED
		       ? DP_CT_TCP_ESTABLISHED_TIMEOUT
		       : dp_ct_timeout();
}

/* The worker, for a packet of a flow leaving through port_id. */
static void offload_one(uint16_t port_id, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const struct swf_pkt *in = (const struct swf_pkt *)(const void *)priv->fastpath;
	struct dp_ct_flow *flow = priv->flow;
	struct rte_flow **slot, *old, *rule;
	struct dp_offload_spec spec;
	struct rte_flow_error error;
	uint8_t dir = priv->flow_dir;
	int shape;

	if (flow->key[0].k.proto == IPPROTO_TCP && flow->tcp_state != DP_CT_TCP_ESTABLISHED)
		return;
	slot = &flow_rules[dp_ct_flow_index(flow)][dir & 1];
	old = *slot;
	if (old && dp_swflow_live(old) && dp_swflow_epoch(old) == in->epoch)
		return; /* it has one (a packet that came in before it was made) */
	if (__atomic_load_n(&flow->live, __ATOMIC_ACQUIRE) != 1)
		return; /* being removed */
	shape = dp_offload_build(in, dp_ports[m->port].role == DP_PORT_PF,
				 rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				 port_id, dp_ports[port_id].role == DP_PORT_PF, age_of(flow), flow,
				 &spec);
	if (shape < 0) {
		count(&refused_by_reason[-shape]);
		return;
	}
	if (old && dp_swflow_epoch(old) != in->epoch)
		dp_swflow_retire(old); /* stale; its pattern may differ from the new one's */
	rule = dp_swflow_create_at(in->epoch, m->port, &spec.attr, spec.pattern, spec.actions,
				   &error);
	if (!rule)
		return; /* counted by the engine; the flow stays with the graph */
	__atomic_store_n(slot, rule, __ATOMIC_RELEASE);
	count(&installed_by_shape[shape]);
	if (dp_nic_enabled())
		dp_nic_offload(rule, m->port, port_id, &spec);
}

static void offload_tx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		const struct dp_mbuf_priv *priv = dp_mbuf_priv(pkts[i]);

		if (priv->fastpath_read && priv->flow)
			offload_one(port_id, pkts[i]);
	}
}

/* conntrack: the flow's keys are leaving the table; its rules go first. */
static void offload_flow_removed(struct dp_ct_flow *flow)
{
	struct rte_flow **slots;

	if (!flow_rules) /* offload off */
		return;
	slots = flow_rules[dp_ct_flow_index(flow)];

	for (unsigned int d = 0; d < 2; d++) {
		struct rte_flow *r = __atomic_exchange_n(&slots[d], NULL, __ATOMIC_ACQ_REL);

		if (r)
			dp_swflow_retire(r);
	}
}

/* After the grace period: a rule the worker made meanwhile goes too. */
static bool offload_flow_released(struct dp_ct_flow *flow)
{
	offload_flow_removed(flow);
	return false;
}

/* conntrack: what the flow's rules carried (their packets and last hit). */
static uint64_t offload_carried(const struct dp_ct_flow *flow, uint64_t packets[2])
{
	struct rte_flow *const *slots = flow_rules[dp_ct_flow_index(flow)];
	uint64_t last = 0;

	for (unsigned int d = 0; d < 2; d++) {
		struct rte_flow *r = __atomic_load_n(&slots[d], __ATOMIC_ACQUIRE);
		uint64_t hits, hit;

		if (!r || !dp_swflow_live(r))
			continue;
		hit = dp_swflow_usage(r, &hits);
		packets[d] += hits;
		if (hit > last)
			last = hit;
	}
	return last;
}

static struct dp_ct_remove_hook offload_remove_hook = {.fn = offload_flow_removed};
DP_CT_RELEASE_HOOK(offload_release_hook, offload_flow_released);

RTE_INIT(offload_hooks_register)
{
	dp_ct_remove_hook_register(&offload_remove_hook);
}

/*
 * Every port's packets start in group 0, whose one rule sends them on to their flows' rules
 * in group 2; while the port is captured, to group 1 first, whose rule samples every packet
 * (a copy to the capture sink) before it jumps to group 2.
 */
static struct rte_flow *port_jump[DP_MAX_PORTS];    /* group 0 */
static struct rte_flow *port_capture[DP_MAX_PORTS]; /* group 1, while captured */

static struct rte_flow *jump_rule(uint16_t port, uint32_t group, uint32_t to,
				  const struct rte_flow_action_sample *sample)
{
	struct rte_flow_error error = {0};
	struct dp_jump_spec spec;
	struct rte_flow *r;

	dp_offload_jump_build(group, to, sample, &spec);
	r = dp_swflow_create(port, &spec.attr, spec.pattern, spec.actions, &error);
	if (!r)
		DP_LOG(ERR, "offload: port %u: no rule in group %u: %s", port, group,
		       error.message ? error.message : "?");
	return r;
}

static int default_rules(void)
{
	for (uint16_t p = 0; p < DP_MAX_PORTS; p++) {
		if (!dp_ports[p].configured)
			continue;
		port_jump[p] = jump_rule(p, DP_OFFLOAD_GROUP_DEFAULT, DP_OFFLOAD_GROUP_VNET, NULL);
		if (!port_jump[p])
			return -ENOSPC;
	}
	return 0;
}

static void offload_fini(void);

/* Rules by default: a flow table's worth, up to this many (16 MB; --offload-rules for more). */
#define DEFAULT_MAX_RULES 65536u

static uint32_t max_rules(void)
{
	return offload_max_rules ? offload_max_rules : RTE_MIN(dp_ct_capacity(), DEFAULT_MAX_RULES);
}

static int offload_init(void)
{
	uint32_t max = max_rules(), ports = 0;
	int ret;

	memset(refused_by_reason, 0, sizeof(refused_by_reason));
	memset(installed_by_shape, 0, sizeof(installed_by_shape));
	if (nic_conf) /* isolation, with offload on or off */
		dp_nic_init(offload_on, nic_async, nic_underlay);
	if (!offload_on)
		return 0;
	for (uint16_t p = 0; p < DP_MAX_PORTS; p++)
		ports += dp_ports[p].configured;
	ret = dp_swflow_init(max + 2 * ports); /* and the ports' default and capture rules */
	if (ret < 0) {
		DP_LOG(ERR, "offload: no memory for %u rules (--offload-rules)", max);
		return ret;
	}
	flow_rules = rte_zmalloc("offload_flow_rules",
				 (size_t)dp_ct_nb_flows() * sizeof(*flow_rules), 0);
	if (!flow_rules) {
		offload_fini();
		return -ENOMEM;
	}
	ret = default_rules();
	if (ret < 0) {
		offload_fini();
		return ret;
	}
	dp_ct_carried = offload_carried;
	dp_tx_observer = offload_tx;
	dp_rx_fastpath = dp_swflow_rx;
	return 0;
}

static void offload_fini(void)
{
	dp_nic_fini();
	dp_rx_fastpath = NULL;
	dp_tx_observer = NULL;
	dp_ct_carried = NULL;
	rte_free(flow_rules);
	flow_rules = NULL;
	memset(port_jump, 0, sizeof(port_jump));
	memset(port_capture, 0, sizeof(port_capture));
	dp_swflow_fini();
}

static struct dp_module offload_module = {
	.name = "offload",
	.depends = {"conntrack"},
	.init = offload_init,
	.fini = offload_fini,
};
DP_MODULE_REGISTER(offload_module);

static unsigned int rule_count(void)
{
	struct dp_swflow_stats s;

	dp_swflow_stats_get(&s);
	return s.rules;
}

static struct dp_table_usage offload_usage = {
	.name = "offload_rules",
	.count = rule_count,
};
DP_TABLE_USAGE_REGISTER(offload_usage);

void dp_offload_invalidate(void)
{
	dp_fwd_changed();
	dp_swflow_nic_sweep(); /* the NIC stops carrying what is stale at once */
}

int dp_offload_flush(void)
{
	int n = 0;

	DP_CTL_CHECK();
	if (!flow_rules)
		return 0;
	for (uint32_t i = 0; i < dp_ct_nb_flows(); i++)
		for (unsigned int d = 0; d < 2; d++) {
			struct rte_flow *r =
				__atomic_exchange_n(&flow_rules[i][d], NULL, __ATOMIC_ACQ_REL);

			if (r && dp_swflow_retire(r))
				n++;
		}
	dp_swflow_reclaim();
	return n;
}

int dp_offload_maintain(void)
{
	DP_CTL_CHECK();
	dp_swflow_nic_sweep(); /* stale by the worker's doing (a VM's new MAC) */
	dp_swflow_reclaim();
	offload_usage.capacity = offload_on ? max_rules() : 0;
	return 0;
}

int dp_offload_stats_get(struct dp_offload_stats *st)
{
	struct dp_swflow_stats s;

	memset(st, 0, sizeof(*st));
	st->enabled = offload_on;
	st->epoch = __atomic_load_n(&dp_fwd_epoch, __ATOMIC_RELAXED);
	dp_nic_stats_get(st);
	if (!offload_on || !dp_swflow_ready())
		return 0;
	dp_swflow_stats_get(&s);
	st->hits = s.hits;
	st->misses = s.misses;
	st->unreadable = s.unreadable;
	st->installs = s.installs;
	st->refusals = s.refusals;
	st->destroys = s.destroys;
	st->tx_dropped = s.tx_dropped;
	st->rule_drops = s.rule_drops;
	st->sampled = s.sampled;
	st->sample_dropped = s.sample_dropped;
	st->rules = s.rules;
	st->capacity = s.capacity;
	st->templates = s.templates;
	for (unsigned int i = 0; i < DP_OFFLOAD_REFUSAL_COUNT; i++)
		st->not_offloadable[i] = __atomic_load_n(&refused_by_reason[i], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < DP_OFFLOAD_SHAPE_COUNT; i++)
		st->shapes[i] = __atomic_load_n(&installed_by_shape[i], __ATOMIC_RELAXED);
	return 0;
}

int dp_offload_nic_port_get(uint16_t port_id, struct dp_offload_nic_port *info)
{
	return dp_nic_port_get(port_id, info);
}

int dp_offload_list(struct dp_offload_rule_info *out, unsigned int max)
{
	DP_CTL_CHECK();
	if (!offload_on || !dp_swflow_ready())
		return 0;
	return dp_swflow_list(out, max);
}

int dp_offload_build_text(const uint8_t *in, uint32_t in_len, bool from_pf, const uint8_t *out,
			  uint32_t out_len, uint16_t out_port, bool to_pf, uint32_t age_s,
			  char *attr, size_t attr_size, char *pattern, size_t pattern_size,
			  char *actions, size_t actions_size)
{
	struct dp_offload_spec spec;
	struct swf_pkt p;
	int shape;

	if (out_port >= DP_MAX_PORTS)
		return dp_errno(ENODEV);
	if (!swf_extract(in, in_len, from_pf, &p))
		return -DP_OFFLOAD_NO_L4;
	shape = dp_offload_build(&p, from_pf, out, out_len, out_port, to_pf, age_s, NULL, &spec);
	if (shape < 0)
		return shape;
	snprintf(attr, attr_size, "group %u priority %u%s%s%s", spec.attr.group, spec.attr.priority,
		 spec.attr.ingress ? " ingress" : "", spec.attr.egress ? " egress" : "",
		 spec.attr.transfer ? " transfer" : "");
	if (dp_swflow_pattern_str(spec.pattern, pattern, pattern_size) < 0 ||
	    dp_swflow_actions_str(&spec.attr, spec.actions, actions, actions_size) < 0)
		return dp_errno(EPROTO); /* a builder made what the engine refuses */
	return shape;
}

int dp_offload_isolation_text(const uint8_t underlay[16], char *attr, size_t attr_size,
			      char *pattern, size_t pattern_size, char *actions,
			      size_t actions_size)
{
	struct dp_isolation_spec spec;

	dp_offload_isolation_build(underlay, &spec);
	snprintf(attr, attr_size, "group %u priority %u%s", spec.attr.group, spec.attr.priority,
		 spec.attr.ingress ? " ingress" : "");
	if (dp_swflow_pattern_str(spec.pattern, pattern, pattern_size) < 0)
		return dp_errno(EPROTO);
	/* QUEUE is the NIC's alone: the engine's text knows no queues */
	snprintf(actions, actions_size, "queue %u", spec.queue.index);
	return 0;
}

int dp_offload_nic_eligible(int in_pf_index, int out_pf_index)
{
	return dp_offload_one_eswitch(in_pf_index, out_pf_index);
}

int dp_offload_extract(const uint8_t *frame, uint32_t len, bool tunnel_ok, uint16_t *stack,
		       uint16_t *l3_off, uint16_t *l4_off)
{
	struct swf_pkt p;
	bool ok = swf_extract(frame, len, tunnel_ok, &p);

	*stack = p.f.stack;
	*l3_off = p.l3_off;
	*l4_off = p.l4_off;
	return ok;
}

/* -- capture ------------------------------------------------------------------------------ */

int dp_offload_capture(uint16_t port_id, bool on, const struct dp_offload_capture_conf *conf)
{
	uint8_t hdr[62];
	struct rte_ether_addr neigh;
	struct rte_flow_action_raw_encap encap = {.data = hdr, .size = sizeof(hdr)};
	struct rte_flow_action_port_id to_pf0;
	const struct rte_flow_action sub[] = {
		{.type = RTE_FLOW_ACTION_TYPE_RAW_ENCAP, .conf = &encap},
		{.type = RTE_FLOW_ACTION_TYPE_PORT_ID, .conf = &to_pf0},
		{.type = RTE_FLOW_ACTION_TYPE_END},
	};
	const struct rte_flow_action_sample sample = {.ratio = 1, .actions = sub};
	struct rte_flow *capture, *jump;

	DP_CTL_CHECK();
	if (!offload_on || !dp_swflow_ready())
		return dp_errno(ENOTSUP);
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	if (on == (port_capture[port_id] != NULL))
		return dp_errno(on ? EALREADY : ENOENT);
	if (!on) {
		/* the group 0 rule has the pattern of the one to come: out with it first (the
		 * port's packets cross the graph meanwhile) */
		dp_swflow_retire(port_jump[port_id]);
		port_jump[port_id] =
			jump_rule(port_id, DP_OFFLOAD_GROUP_DEFAULT, DP_OFFLOAD_GROUP_VNET, NULL);
		dp_swflow_retire(port_capture[port_id]);
		port_capture[port_id] = NULL;
		dp_swflow_reclaim();
		dp_nic_port_capture(port_id, false); /* the NIC takes its packets again */
		return port_jump[port_id] ? 0 : dp_errno(ENOSPC);
	}
	if (dp_pf_ports[0] == DP_PORT_NONE)
		return dp_errno(ENODEV);
	/* to the sink: Ethernet to PF0's router, IPv6 from the host's underlay address, UDP
	 * (the lengths are the packet's, the checksum none, as dpservice sends them) */
	memset(hdr, 0, sizeof(hdr));
	dp_port_neigh_mac(dp_pf_ports[0], &neigh);
	memcpy(hdr, neigh.addr_bytes, 6);
	memcpy(hdr + 6, dp_ports[dp_pf_ports[0]].mac.addr_bytes, 6);
	hdr[12] = 0x86;
	hdr[13] = 0xdd;
	hdr[14] = 0x60;
	hdr[14 + 6] = IPPROTO_UDP;
	hdr[14 + 7] = 64;
	memcpy(hdr + 14 + 8, conf->src, 16);
	memcpy(hdr + 14 + 24, conf->sink, 16);
	hdr[54] = (uint8_t)(conf->udp_src_port >> 8);
	hdr[55] = (uint8_t)conf->udp_src_port;
	hdr[56] = (uint8_t)(conf->udp_dst_port >> 8);
	hdr[57] = (uint8_t)conf->udp_dst_port;
	to_pf0.id = dp_pf_ports[0];
	capture = jump_rule(port_id, DP_OFFLOAD_GROUP_CAPTURE, DP_OFFLOAD_GROUP_VNET, &sample);
	if (!capture)
		return dp_errno(ENOSPC);
	dp_swflow_retire(port_jump[port_id]);
	jump = jump_rule(port_id, DP_OFFLOAD_GROUP_DEFAULT, DP_OFFLOAD_GROUP_CAPTURE, NULL);
	if (!jump) { /* as it was */
		dp_swflow_retire(capture);
		port_jump[port_id] =
			jump_rule(port_id, DP_OFFLOAD_GROUP_DEFAULT, DP_OFFLOAD_GROUP_VNET, NULL);
		dp_swflow_reclaim();
		return dp_errno(port_jump[port_id] ? ENOSPC : EIO);
	}
	port_jump[port_id] = jump;
	port_capture[port_id] = capture;
	dp_swflow_reclaim();
	dp_nic_port_capture(port_id, true); /* its packets come to the engine's rules */
	return 0;
}

bool dp_offload_captured(uint16_t port_id)
{
	return port_id < DP_MAX_PORTS && port_capture[port_id] != NULL;
}
