/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing Router and Neighbor Solicitations (RFC 4861 6.1.1, 7.1.1) and their options, and
 * the ICMPv6 checksum: pure functions, fuzzed through pyext. Every length is checked against
 * the bytes present before anything is read.
 */
#include <string.h>

#include <dplane/nd.h>

enum dp_nd_status dp_nd_parse_options(const uint8_t *opts, uint32_t len, struct dp_nd_opts *out)
{
	uint32_t off = 0, olen;

	memset(out, 0, sizeof(*out));
	while (off < len) {
		if (len - off < 2)
			return DP_ND_BAD_OPTION;
		olen = (uint32_t)opts[off + 1] * 8;
		if (olen == 0 || olen > len - off)
			return DP_ND_BAD_OPTION;
		/* olen >= 8: the 6 address bytes after type and length are there */
		if (opts[off] == DP_ND_OPT_SLLA && !out->has_slla) {
			out->has_slla = 1;
			memcpy(out->slla, opts + off + 2, 6);
		} else if (opts[off] == DP_ND_OPT_TLLA && !out->has_tlla) {
			out->has_tlla = 1;
			memcpy(out->tlla, opts + off + 2, 6);
		}
		/* any other option is ignored (RFC 4861 4.6) */
		out->nb_opts++;
		off += olen;
	}
	return DP_ND_OK;
}

enum dp_nd_status dp_nd_parse(const uint8_t *msg, uint32_t len, struct dp_nd_info *out)
{
	uint32_t hlen;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return DP_ND_TRUNCATED;
	out->type = msg[0];
	out->code = msg[1];
	switch (msg[0]) {
	case DP_ND_RS:
		hlen = DP_ND_RS_LEN;
		break;
	case DP_ND_NS:
		hlen = DP_ND_NS_LEN;
		break;
	default:
		return DP_ND_BAD_TYPE;
	}
	if (len < hlen)
		return DP_ND_TRUNCATED;
	if (msg[1] != 0)
		return DP_ND_BAD_CODE;
	if (msg[0] == DP_ND_NS)
		memcpy(out->target, msg + 8, 16);
	out->opts_off = (uint16_t)hlen;
	return dp_nd_parse_options(msg + hlen, len - hlen, &out->opts);
}

DP_ENUM_NAME_FN(dp_nd_status_name, enum dp_nd_status, DP_ND_STATUS_LIST, DP_ND_STATUS_COUNT)

/* Big-endian 16-bit words of p added to sum; an odd last byte is padded with zero. */
static uint64_t sum_words(const uint8_t *p, uint32_t len, uint64_t sum)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t dp_nd_checksum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg,
			uint32_t len)
{
	uint64_t sum = 0;

	/* pseudo-header (RFC 8200 8.1): addresses, upper-layer length, next header 58 */
	sum = sum_words(src, 16, sum);
	sum = sum_words(dst, 16, sum);
	sum += (len >> 16) + (len & 0xffff) + 58;
	sum = sum_words(msg, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
