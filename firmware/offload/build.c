/* SPDX-License-Identifier: Apache-2.0 */
/* Rule builders (build.h): pure functions of the packet in, the packet out and the ports. */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include "build.h"

#define TCP_STATE_FLAGS (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG)
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

static const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct builder {
	struct dp_offload_spec *s;
	unsigned int ni, na;
};

static void item(struct builder *b, enum rte_flow_item_type type, const void *spec,
		 const void *mask)
{
	b->s->pattern[b->ni++] = (struct rte_flow_item){.type = type, .spec = spec, .mask = mask};
}

static void action(struct builder *b, enum rte_flow_action_type type, const void *conf)
{
	b->s->actions[b->na++] = (struct rte_flow_action){.type = type, .conf = conf};
}

/* The pattern: exactly the packet as it came in (addresses, protocol, ports). */
static void build_pattern(struct builder *b, const struct swf_pkt *in)
{
	struct dp_offload_spec *s = b->s;
	const struct swf_fields *f = &in->f;

	s->eth_spec.hdr.ether_type = f->eth_type;
	s->eth_mask.hdr.ether_type = RTE_BE16(0xffff);
	item(b, RTE_FLOW_ITEM_TYPE_ETH, &s->eth_spec, &s->eth_mask);
	if (in->tunnel) {
		memcpy(s->tun_spec.hdr.dst_addr, f->tun_dst, 16);
		memcpy(s->tun_mask.hdr.dst_addr, ones, 16);
		s->tun_spec.hdr.proto = f->tun_proto;
		s->tun_mask.hdr.proto = 0xff;
		item(b, RTE_FLOW_ITEM_TYPE_IPV6, &s->tun_spec, &s->tun_mask);
	}
	if (!in->l3_v6) {
		memcpy(&s->ip4_spec.hdr.src_addr, f->ip_src, 4);
		memcpy(&s->ip4_spec.hdr.dst_addr, f->ip_dst, 4);
		s->ip4_mask.hdr.src_addr = s->ip4_mask.hdr.dst_addr = RTE_BE32(0xffffffff);
		s->ip4_spec.hdr.next_proto_id = f->ip_proto;
		s->ip4_mask.hdr.next_proto_id = 0xff;
		s->ip4_mask.hdr.fragment_offset = RTE_BE16(0x3fff); /* not a fragment */
		item(b, RTE_FLOW_ITEM_TYPE_IPV4, &s->ip4_spec, &s->ip4_mask);
	} else {
		memcpy(s->ip6_spec.hdr.src_addr, f->ip_src, 16);
		memcpy(s->ip6_spec.hdr.dst_addr, f->ip_dst, 16);
		memcpy(s->ip6_mask.hdr.src_addr, ones, 16);
		memcpy(s->ip6_mask.hdr.dst_addr, ones, 16);
		s->ip6_spec.hdr.proto = f->ip_proto;
		s->ip6_mask.hdr.proto = 0xff;
		item(b, RTE_FLOW_ITEM_TYPE_IPV6, &s->ip6_spec, &s->ip6_mask);
	}
	switch (f->ip_proto) {
	case IPPROTO_TCP:
		s->tcp_spec.hdr.src_port = f->sport;
		s->tcp_spec.hdr.dst_port = f->dport;
		s->tcp_mask.hdr.src_port = s->tcp_mask.hdr.dst_port = RTE_BE16(0xffff);
		s->tcp_mask.hdr.tcp_flags = TCP_STATE_FLAGS; /* spec 0: none of them */
		item(b, RTE_FLOW_ITEM_TYPE_TCP, &s->tcp_spec, &s->tcp_mask);
		break;
	case IPPROTO_UDP:
		s->udp_spec.hdr.src_port = f->sport;
		s->udp_spec.hdr.dst_port = f->dport;
		s->udp_mask.hdr.src_port = s->udp_mask.hdr.dst_port = RTE_BE16(0xffff);
		item(b, RTE_FLOW_ITEM_TYPE_UDP, &s->udp_spec, &s->udp_mask);
		break;
	default:                                                   /* ICMP */
		memcpy(&s->icmp_spec.hdr.icmp_type, &f->sport, 2); /* type, code */
		s->icmp_spec.hdr.icmp_ident = f->dport;
		s->icmp_mask.hdr.icmp_type = s->icmp_mask.hdr.icmp_code = 0xff;
		s->icmp_mask.hdr.icmp_ident = RTE_BE16(0xffff);
		item(b, RTE_FLOW_ITEM_TYPE_ICMP, &s->icmp_spec, &s->icmp_mask);
		break;
	}
	item(b, RTE_FLOW_ITEM_TYPE_END, NULL, NULL);
}

/* Rewrites of the (inner) IP header and ports: what the stages (NAT, ...) changed. */
static void build_rewrites(struct builder *b, const struct swf_pkt *in, const struct swf_pkt *out)
{
	struct dp_offload_spec *s = b->s;
	const struct swf_fields *i = &in->f, *o = &out->f;
	unsigned int alen = in->l3_v6 ? 16 : 4;

	for (unsigned int d = 0; d < 2; d++) {
		const uint8_t *was = d ? i->ip_dst : i->ip_src, *is = d ? o->ip_dst : o->ip_src;

		if (memcmp(was, is, alen) == 0)
			continue;
		if (in->l3_v6) {
			memcpy(s->ip6_set[d].ipv6_addr, is, 16);
			action(b,
			       d ? RTE_FLOW_ACTION_TYPE_SET_IPV6_DST
				 : RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
			       &s->ip6_set[d]);
		} else {
			memcpy(&s->ip4_set[d].ipv4_addr, is, 4);
			action(b,
			       d ? RTE_FLOW_ACTION_TYPE_SET_IPV4_DST
				 : RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
			       &s->ip4_set[d]);
		}
	}
	if (i->sport != o->sport) {
		s->tp_set[0].port = o->sport;
		action(b, RTE_FLOW_ACTION_TYPE_SET_TP_SRC, &s->tp_set[0]);
	}
	if (i->dport != o->dport) {
		s->tp_set[1].port = o->dport;
		action(b, RTE_FLOW_ACTION_TYPE_SET_TP_DST, &s->tp_set[1]);
	}
}

/* RAW_DECAP of the old headers, RAW_ENCAP of the frame's first encap_size bytes (a tunnel's
 * payload length is the NIC's to set per packet). */
static void reformat(struct builder *b, size_t decap_size, const uint8_t *out, size_t encap_size)
{
	struct dp_offload_spec *s = b->s;

	s->decap.size = decap_size;
	action(b, RTE_FLOW_ACTION_TYPE_RAW_DECAP, &s->decap);
	memcpy(s->encap_data, out, encap_size);
	if (encap_size == 54)
		s->encap_data[18] = s->encap_data[19] = 0;
	s->encap.data = s->encap_data;
	s->encap.size = encap_size;
	action(b, RTE_FLOW_ACTION_TYPE_RAW_ENCAP, &s->encap);
}

static bool inner_changed(const struct swf_pkt *in, const struct swf_pkt *out)
{
	const struct swf_fields *i = &in->f, *o = &out->f;
	unsigned int alen = in->l3_v6 ? 16 : 4; /* what the reader filled in */

	return memcmp(i->ip_src, o->ip_src, alen) != 0 || memcmp(i->ip_dst, o->ip_dst, alen) != 0 ||
	       i->sport != o->sport || i->dport != o->dport;
}

int dp_offload_build(const struct swf_pkt *in, bool from_pf, const uint8_t *out, uint32_t out_len,
		     uint16_t out_port, bool to_pf, uint32_t age_s, void *ctx,
		     struct dp_offload_spec *spec)
{
	struct builder b = {.s = spec};
	struct swf_pkt o;
	int shape;

	memset(spec, 0, sizeof(*spec));
	if (!in->l4_off)
		return -DP_OFFLOAD_NO_L4;
	if (!swf_extract(out, out_len, to_pf, &o) || !o.l4_off)
		return -DP_OFFLOAD_OUT_UNREADABLE;
	if (o.l3_v6 != in->l3_v6 || o.f.ip_proto != in->f.ip_proto)
		return -DP_OFFLOAD_FAMILY_CHANGED;
	if (from_pf != !!in->tunnel || to_pf != !!o.tunnel)
		return -DP_OFFLOAD_BAD_TUNNEL;
	if (from_pf && to_pf && (inner_changed(in, &o) || o.f.tun_proto != in->f.tun_proto))
		return -DP_OFFLOAD_PF_TO_PF; /* into another tunnel, but changed inside */
	if (in->f.ip_proto == IPPROTO_ICMP) {
		uint8_t type = (uint8_t)(rte_be_to_cpu_16(in->f.sport) >> 8);

		if ((type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY) ||
		    (rte_be_to_cpu_16(in->f.sport) & 0xff) != 0)
			return -DP_OFFLOAD_ICMP_NOT_ECHO;
		/* rewritten here, or a neighbour NAT's echo relayed to the host that rewrites it:
		 * ICMP NAT flows are never offloaded (dpservice) */
		if (inner_changed(in, &o) || o.f.sport != in->f.sport || (from_pf && to_pf))
			return -DP_OFFLOAD_ICMP_REWRITTEN;
	}
	/* what the builders know how to express: the rest of the frame goes as it came */
	if (o.l3_len != in->l3_len)
		return -DP_OFFLOAD_UNEXPECTED_CHANGE;

	spec->attr.transfer = 1;
	spec->attr.group = DP_OFFLOAD_GROUP_VNET;
	build_pattern(&b, in);
	if (!from_pf && !to_pf) {
		memcpy(spec->mac_src.mac_addr, out + 6, 6);
		memcpy(spec->mac_dst.mac_addr, out, 6);
		action(&b, RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, &spec->mac_src);
		action(&b, RTE_FLOW_ACTION_TYPE_SET_MAC_DST, &spec->mac_dst);
		build_rewrites(&b, in, &o);
		shape = DP_OFFLOAD_VF_VF;
	} else if (from_pf && to_pf) {
		/* into another tunnel (a load balancer's target, a neighbour's NAT): the packet
		 * inside unchanged, the tunnel's whole header the graph's */
		reformat(&b, 54, out, 54);
		shape = DP_OFFLOAD_PF_PF;
	} else if (to_pf) {
		build_rewrites(&b, in, &o);
		reformat(&b, 14, out, 54);
		shape = DP_OFFLOAD_VF_PF;
	} else {
		reformat(&b, 54, out, 14);
		build_rewrites(&b, in, &o);
		shape = DP_OFFLOAD_PF_VF;
	}
	action(&b, RTE_FLOW_ACTION_TYPE_COUNT, &spec->count);
	spec->age.timeout = age_s > 0xffffff ? 0xffffff : age_s;
	spec->age.context = ctx;
	action(&b, RTE_FLOW_ACTION_TYPE_AGE, &spec->age);
	spec->port.id = out_port;
	action(&b, RTE_FLOW_ACTION_TYPE_PORT_ID, &spec->port);
	action(&b, RTE_FLOW_ACTION_TYPE_END, NULL);
	return shape;
}

void dp_offload_isolation_build(const uint8_t underlay[16], struct dp_isolation_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->attr = (struct rte_flow_attr){.group = 0, .priority = 1, .ingress = 1};
	spec->eth_spec.hdr.ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	spec->eth_mask.hdr.ether_type = RTE_BE16(0xffff);
	memcpy(spec->ip6_spec.hdr.dst_addr, underlay, 8);
	spec->ip6_spec.hdr.dst_addr[8] = 0xd0;
	memset(spec->ip6_mask.hdr.dst_addr, 0xff, 8);
	spec->ip6_mask.hdr.dst_addr[8] = 0xf0;
	spec->pattern[0] = (struct rte_flow_item){
		.type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &spec->eth_spec, .mask = &spec->eth_mask};
	spec->pattern[1] = (struct rte_flow_item){
		.type = RTE_FLOW_ITEM_TYPE_IPV6, .spec = &spec->ip6_spec, .mask = &spec->ip6_mask};
	spec->pattern[2] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_END};
	spec->queue.index = 0;
	spec->actions[0] =
		(struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &spec->queue};
	spec->actions[1] = (struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_END};
}

void dp_offload_jump_build(uint32_t group, uint32_t to, const struct rte_flow_action_sample *sample,
			   struct dp_jump_spec *spec)
{
	unsigned int n = 0;

	memset(spec, 0, sizeof(*spec));
	spec->attr = (struct rte_flow_attr){.group = group, .priority = 7, .transfer = 1};
	spec->pattern[0] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_ETH};
	spec->pattern[1] = (struct rte_flow_item){.type = RTE_FLOW_ITEM_TYPE_END};
	spec->jump.group = to;
	if (sample)
		spec->actions[n++] = (struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_SAMPLE,
							      .conf = sample};
	spec->actions[n++] =
		(struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_JUMP, .conf = &spec->jump};
	spec->actions[n] = (struct rte_flow_action){.type = RTE_FLOW_ACTION_TYPE_END};
}

bool dp_offload_one_eswitch(int in_pf_index, int out_pf_index)
{
	if (in_pf_index >= 0 && out_pf_index >= 0)
		return false; /* PF -> PF: a hairpin in dpservice */
	return in_pf_index <= 0 && out_pf_index <= 0;
}
