/* SPDX-License-Identifier: Apache-2.0 */
/* The software flow engine's rules as text, as inspect prints them and the builders' tests
 * check them (swflow.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "ctl.h"
#include "fastpath.h"
#include "swflow_priv.h"

struct strbuf {
	char *buf;
	size_t size, len;
};

static void sb_add(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len >= b->size)
		b->len = b->size - 1;
}

static bool masked(const uint8_t *mask, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (mask[i])
			return true;
	return false;
}

/* An address, with its prefix length when the mask is a shorter prefix (and the mask itself
 * when it is none). */
static void sb_addr(struct strbuf *b, const char *name, const uint8_t *v, const uint8_t *k, bool v6)
{
	char text[INET6_ADDRSTRLEN];
	unsigned int len = v6 ? 16 : 4, bits = 0, i = 0;

	if (!masked(k, len))
		return;
	inet_ntop(v6 ? AF_INET6 : AF_INET, v, text, sizeof(text));
	sb_add(b, " %s %s", name, text);
	while (i < len && k[i] == 0xff)
		bits += 8, i++;
	if (i == len)
		return;
	for (uint8_t byte = k[i]; byte & 0x80; byte = (uint8_t)(byte << 1))
		bits++;
	if ((uint8_t)(k[i] << (bits % 8)) == 0 && !masked(k + i + 1, len - i - 1)) {
		sb_add(b, "/%u", bits);
		return;
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, k, text, sizeof(text));
	sb_add(b, "/%s", text);
}

static void sb_u16(struct strbuf *b, const char *name, const void *v, const void *k)
{
	uint16_t vv, kk;

	memcpy(&vv, v, 2);
	memcpy(&kk, k, 2);
	if (!kk)
		return;
	if (kk == 0xffff)
		sb_add(b, " %s %u", name, rte_be_to_cpu_16(vv));
	else
		sb_add(b, " %s 0x%x/0x%x", name, rte_be_to_cpu_16(vv), rte_be_to_cpu_16(kk));
}

/* A match (fields' values and masks) as `eth type 0x0800 / ipv4 src ... / tcp ...`. */
static void match_str(struct strbuf *b, const struct swf_fields *v, const struct swf_fields *k)
{
	static const char *const names[] = {"", "eth", "ipv4", "ipv6", "tcp", "udp", "icmp"};
	unsigned int ips = 0, nip = 0;

	for (unsigned int d = 0; d < 4; d++)
		if (((k->stack >> (4 * d)) & 0xf) && (((v->stack >> (4 * d)) & 0xf) == SWF_L_IPV4 ||
						      ((v->stack >> (4 * d)) & 0xf) == SWF_L_IPV6))
			nip++;
	for (unsigned int d = 0; d < 4; d++) {
		unsigned int l = (v->stack >> (4 * d)) & 0xf;

		if (!((k->stack >> (4 * d)) & 0xf))
			break;
		if (l >= RTE_DIM(names))
			break;
		sb_add(b, "%s%s", d ? " / " : "", names[l]);
		switch (l) {
		case SWF_L_ETH:
			if (masked(k->eth_dst, 6))
				sb_add(b, " dst %02x:%02x:%02x:%02x:%02x:%02x", v->eth_dst[0],
				       v->eth_dst[1], v->eth_dst[2], v->eth_dst[3], v->eth_dst[4],
				       v->eth_dst[5]);
			if (k->eth_type)
				sb_add(b, " type 0x%04x", rte_be_to_cpu_16(v->eth_type));
			break;
		case SWF_L_IPV4:
		case SWF_L_IPV6:
			ips++;
			if (nip == 2 && ips == 1) { /* a tunnel's outer header */
				sb_addr(b, "src", v->tun_src, k->tun_src, true);
				sb_addr(b, "dst", v->tun_dst, k->tun_dst, true);
				if (k->tun_proto)
					sb_add(b, " proto %u", v->tun_proto);
				break;
			}
			sb_addr(b, "src", v->ip_src, k->ip_src, l == SWF_L_IPV6);
			sb_addr(b, "dst", v->ip_dst, k->ip_dst, l == SWF_L_IPV6);
			if (k->ip_proto)
				sb_add(b, " proto %u", v->ip_proto);
			if (k->ip_frag)
				sb_add(b, " frag 0x%x/0x%x", rte_be_to_cpu_16(v->ip_frag),
				       rte_be_to_cpu_16(k->ip_frag));
			break;
		case SWF_L_TCP:
		case SWF_L_UDP:
			sb_u16(b, "sport", &v->sport, &k->sport);
			sb_u16(b, "dport", &v->dport, &k->dport);
			if (k->tcp_flags)
				sb_add(b, " flags 0x%x/0x%x", v->tcp_flags, k->tcp_flags);
			break;
		case SWF_L_ICMP: {
			const uint8_t *tv = (const uint8_t *)&v->sport,
				      *tk = (const uint8_t *)&k->sport;

			if (tk[0])
				sb_add(b, " type %u", tv[0]);
			if (tk[1])
				sb_add(b, " code %u", tv[1]);
			sb_u16(b, "ident", &v->dport, &k->dport);
			break;
		}
		}
	}
}

static void ops_str(struct strbuf *b, const struct swf_rule *r)
{
	static const char *const names[] = {
		[OP_SET_MAC_SRC] = "set_mac_src",   [OP_SET_MAC_DST] = "set_mac_dst",
		[OP_SET_IPV4_SRC] = "set_ipv4_src", [OP_SET_IPV4_DST] = "set_ipv4_dst",
		[OP_SET_IPV6_SRC] = "set_ipv6_src", [OP_SET_IPV6_DST] = "set_ipv6_dst",
		[OP_SET_TP_SRC] = "set_tp_src",     [OP_SET_TP_DST] = "set_tp_dst",
		[OP_DECAP] = "raw_decap",           [OP_ENCAP] = "raw_encap",
	};

	for (unsigned int i = 0; i < r->nb_ops; i++) {
		const struct swf_op *op = &r->ops[i];
		const uint8_t *v = r->data + op->off;
		char text[INET6_ADDRSTRLEN];
		uint16_t port;

		sb_add(b, "%s%s", i ? " / " : "", names[op->type]);
		switch (op->type) {
		case OP_SET_MAC_SRC:
		case OP_SET_MAC_DST:
			sb_add(b, " %02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4],
			       v[5]);
			break;
		case OP_SET_IPV4_SRC:
		case OP_SET_IPV4_DST:
		case OP_SET_IPV6_SRC:
		case OP_SET_IPV6_DST:
			inet_ntop(op->len == 16 ? AF_INET6 : AF_INET, v, text, sizeof(text));
			sb_add(b, " %s", text);
			break;
		case OP_SET_TP_SRC:
		case OP_SET_TP_DST:
			memcpy(&port, v, 2);
			sb_add(b, " %u", rte_be_to_cpu_16(port));
			break;
		case OP_DECAP:
			sb_add(b, " %u", op->len);
			break;
		case OP_ENCAP:
			sb_add(b, " %u", op->len);
			if (op->len == 54) {
				inet_ntop(AF_INET6, v + 22, text, sizeof(text));
				sb_add(b, " src %s", text);
				inet_ntop(AF_INET6, v + 38, text, sizeof(text));
				sb_add(b, " dst %s", text);
			}
			sb_add(b, " eth %02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3],
			       v[4], v[5]);
			break;
		}
	}
	if (r->sampled) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, r->sample_hdr + 38, text, sizeof(text));
		sb_add(b, "%ssample 1 (raw_encap udp %u->%u dst %s / port_id %u)",
		       r->nb_ops ? " / " : "", rd16(r->sample_hdr + 54), rd16(r->sample_hdr + 56),
		       text, r->sample_port);
	}
	if (r->counted)
		sb_add(b, "%scount", r->nb_ops || r->sampled ? " / " : "");
	if (r->age_timeout)
		sb_add(b, "%sage %u", r->nb_ops || r->sampled || r->counted ? " / " : "",
		       r->age_timeout);
	sb_add(b, "%s", r->nb_ops || r->sampled || r->counted || r->age_timeout ? " / " : "");
	switch (r->fate) {
	case FATE_PORT:
		sb_add(b, "port_id %u", r->out_port);
		break;
	case FATE_JUMP:
		sb_add(b, "jump %u", r->jump_group);
		break;
	case FATE_DROP:
		sb_add(b, "drop");
		break;
	}
}

/* The fields a key's words stand for. */
static void key_expand(const struct swf_key *k, struct swf_fields *v, struct swf_fields *m)
{
	const struct swf_template *tp = &swf_tmpls[k->tmpl];
	uint64_t *vw = (uint64_t *)v, *mw = (uint64_t *)m;

	memset(v, 0, sizeof(*v));
	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < tp->nwords; i++) {
		vw[tp->word[i]] = k->w[i];
		mw[tp->word[i]] = tp->mask[tp->word[i]];
	}
}

int dp_swflow_pattern_str(const struct rte_flow_item pattern[], char *buf, size_t size)
{
	struct strbuf b = {.buf = buf, .size = size};
	struct swf_match m;
	uint16_t stack;
	int ret;

	if (size)
		buf[0] = 0;
	ret = swf_compile_pattern(pattern, &m, &stack, NULL);
	if (ret)
		return ret;
	match_str(&b, (const struct swf_fields *)m.value, (const struct swf_fields *)m.mask);
	return (int)b.len;
}

int dp_swflow_actions_str(const struct rte_flow_attr *attr, const struct rte_flow_action actions[],
			  char *buf, size_t size)
{
	struct strbuf b = {.buf = buf, .size = size};
	struct swf_rule r;
	int ret;

	if (size)
		buf[0] = 0;
	memset(&r, 0, sizeof(r));
	ret = swf_compile_actions(-1, attr, actions, &r, NULL);
	if (ret)
		return ret;
	ops_str(&b, &r);
	return (int)b.len;
}

int dp_swflow_list(struct dp_offload_rule_info *out, unsigned int max)
{
	uint64_t now = rte_rdtsc();
	uint32_t epoch = __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	DP_CTL_CHECK();
	if (!swf_rules)
		return 0;
	for (uint32_t i = 0; i < swf_capacity; i++) {
		const struct swf_rule *r = &swf_rules[i];
		struct swf_fields v, m;

		if (!__atomic_load_n(&r->live, __ATOMIC_ACQUIRE))
			continue;
		if (n < max) {
			struct dp_offload_rule_info *info = &out[n];
			struct strbuf pb = {.buf = info->pattern, .size = sizeof(info->pattern)};
			struct strbuf ab = {.buf = info->actions, .size = sizeof(info->actions)};
			uint64_t last;

			memset(info, 0, sizeof(*info));
			last = dp_swflow_usage((const struct rte_flow *)r, &info->hits);
			info->port_id = r->key.port;
			info->group = r->key.group;
			info->transfer = r->transfer;
			info->priority = r->priority;
			info->nic = __atomic_load_n(&r->nic, __ATOMIC_ACQUIRE) != NULL;
			info->bytes = __atomic_load_n(&r->bytes, __ATOMIC_RELAXED);
			info->idle_ms =
				(uint32_t)((now > last ? now - last : 0) * 1000 / rte_get_tsc_hz());
			info->age_timeout = r->age_timeout;
			info->stale = r->age_timeout && r->epoch != epoch;
			key_expand(&r->key, &v, &m);
			match_str(&pb, &v, &m);
			ops_str(&ab, r);
		}
		n++;
	}
	return (int)n;
}
