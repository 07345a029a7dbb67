/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the software flow engine reads of a frame (swflow.h): a pure function, run on every
 * packet in front of the graph and fuzzed on its own. Fields a packet lacks are left as
 * they were: no template of its header stack has them in its key. It checks what a NIC's parser
 * checks before a rule may take a packet (lengths, the IPv4 header checksum, a tunnel's inner
 * version), so that a packet the graph would refuse never skips the graph.
 */
#include <netinet/in.h>
#include <string.h>

#include "swflow.h"

#define ETH_LEN 14
#define IPV6_LEN 40

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071, 32 bits at a time: a correct header sums to 0xffff (in either byte order). */
static inline bool ipv4_cksum_ok(const uint8_t *h, unsigned int ihl)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < ihl; i += 4) {
		uint32_t w;

		memcpy(&w, h + i, sizeof(w));
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline void push(struct swf_fields *f, unsigned int *depth, enum swf_layer l)
{
	f->stack |= (uint16_t)(l << (4 * (*depth)++));
}

/* The L4 header of an IP packet whose payload is [off, end). */
static inline void l4(const uint8_t *d, uint32_t off, uint32_t end, uint8_t proto,
		      struct swf_pkt *p, unsigned int *depth)
{
	struct swf_fields *f = &p->f;

	switch (proto) {
	case IPPROTO_TCP:
		if (end - off < 20)
			return;
		memcpy(&f->sport, d + off, 2);
		memcpy(&f->dport, d + off + 2, 2);
		f->tcp_flags = d[off + 13];
		push(f, depth, SWF_L_TCP);
		break;
	case IPPROTO_UDP:
		if (end - off < 8)
			return;
		memcpy(&f->sport, d + off, 2);
		memcpy(&f->dport, d + off + 2, 2);
		push(f, depth, SWF_L_UDP);
		break;
	case IPPROTO_ICMP:
		if (end - off < 8)
			return;
		memcpy(&f->sport, d + off, 2);     /* type, code */
		memcpy(&f->dport, d + off + 4, 2); /* identifier */
		push(f, depth, SWF_L_ICMP);
		break;
	default:
		return;
	}
	p->l4_off = (uint16_t)off;
}

/* An IP header at off, of the version the caller expects (4 or 6); false if unreadable. */
static inline bool ip(const uint8_t *d, uint32_t off, uint32_t len, unsigned int version,
		      bool sum_good, struct swf_pkt *p, unsigned int *depth)
{
	struct swf_fields *f = &p->f;
	uint32_t end;

	if (len - off < (version == 4 ? 20u : IPV6_LEN) || (d[off] >> 4) != version)
		return false;
	p->l3_off = (uint16_t)off;
	p->l3_v6 = version == 6;
	if (version == 4) {
		unsigned int ihl = (d[off] & 0x0f) * 4u;
		uint32_t total = rd16(d + off + 2);

		if (ihl < 20 || total < ihl || total > len - off ||
		    (!sum_good && !ipv4_cksum_ok(d + off, ihl)))
			return false;
		memcpy(f->ip_src, d + off + 12, 4);
		memcpy(f->ip_dst, d + off + 16, 4);
		f->ip_proto = d[off + 9];
		memcpy(&f->ip_frag, d + off + 6, 2);
		f->ip_frag &= htons(0x3fff); /* MF and the offset: DF says nothing of a fragment */
		p->l3_len = (uint16_t)total;
		push(f, depth, SWF_L_IPV4);
		end = off + total;
		if (f->ip_frag == 0)
			l4(d, off + ihl, end, f->ip_proto, p, depth);
		return true;
	}
	end = off + IPV6_LEN + rd16(d + off + 4);
	if (end > len)
		return false;
	memcpy(f->ip_src, d + off + 8, 16);
	memcpy(f->ip_dst, d + off + 24, 16);
	f->ip_proto = d[off + 6];
	p->l3_len = (uint16_t)(end - off);
	push(f, depth, SWF_L_IPV6);
	l4(d, off + IPV6_LEN, end, f->ip_proto, p, depth);
	return true;
}

static inline bool extract(const uint8_t *data, uint32_t len, bool tunnel_ok, bool sum_good,
			   struct swf_pkt *p)
{
	struct swf_fields *f = &p->f;
	unsigned int depth = 0;
	uint16_t type;

	/* only what every reader reads: a field the packet lacks is in no key of its stack */
	f->stack = 0;
	f->ip_frag = 0;
	f->tcp_flags = 0;
	p->l3_off = p->l4_off = p->l3_len = 0;
	p->l3_v6 = p->tunnel = 0;
	if (len < ETH_LEN)
		return false;
	memcpy(f->eth_dst, data, 6);
	memcpy(f->eth_src, data + 6, 6);
	memcpy(&f->eth_type, data + 12, 2);
	push(f, &depth, SWF_L_ETH);
	type = rd16(data + 12);
	if (type == 0x0800)
		return ip(data, ETH_LEN, len, 4, sum_good, p, &depth);
	if (type != 0x86dd)
		return true; /* matched on Ethernet alone */
	if (tunnel_ok && len >= ETH_LEN + IPV6_LEN && (data[ETH_LEN] >> 4) == 6 &&
	    (data[ETH_LEN + 6] == IPPROTO_IPIP || data[ETH_LEN + 6] == IPPROTO_IPV6)) {
		const uint8_t *o = data + ETH_LEN;
		uint32_t end = ETH_LEN + IPV6_LEN + rd16(o + 4);

		if (end > len || end == ETH_LEN + IPV6_LEN)
			return false;
		memcpy(f->tun_src, o + 8, 16);
		memcpy(f->tun_dst, o + 24, 16);
		f->tun_proto = o[6];
		push(f, &depth, SWF_L_IPV6);
		p->tunnel = 1;
		/* the inner packet ends where the outer payload does */
		/* the inner header: the NIC checked only the outer one */
		return ip(data, ETH_LEN + IPV6_LEN, end, o[6] == IPPROTO_IPIP ? 4 : 6, false, p,
			  &depth);
	}
	return ip(data, ETH_LEN, len, 6, false, p, &depth);
}

bool swf_extract(const uint8_t *data, uint32_t len, bool tunnel_ok, struct swf_pkt *p)
{
	return extract(data, len, tunnel_ok, false, p);
}

bool swf_extract_rx(const uint8_t *data, uint32_t len, bool tunnel_ok, bool l3_cksum_good,
		    struct swf_pkt *p)
{
	return extract(data, len, tunnel_ok, l3_cksum_good, p);
}
