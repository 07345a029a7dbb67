/* SPDX-License-Identifier: Apache-2.0 */
/* Building ARP requests (the periodic one): a pure function. */
#include <string.h>

#include <dplane/arp.h>

uint32_t dp_arp_build_request(uint8_t *buf, uint32_t room, const uint8_t mac[6],
			      const uint8_t sip[4], const uint8_t tip[4])
{
	uint8_t *arp = buf + 14;

	if (room < DP_ARP_FRAME_LEN)
		return 0;
	memset(buf, 0xff, 6); /* broadcast */
	memcpy(buf + 6, mac, 6);
	buf[12] = 0x08; /* ARP */
	buf[13] = 0x06;
	arp[0] = 0; /* Ethernet */
	arp[1] = 1;
	arp[2] = 0x08; /* IPv4 */
	arp[3] = 0x00;
	arp[4] = 6;
	arp[5] = 4;
	arp[6] = 0;
	arp[7] = DP_ARP_OP_REQUEST;
	memcpy(arp + 8, mac, 6);
	memcpy(arp + 14, sip, 4);
	memset(arp + 18, 0, 6);
	memcpy(arp + 24, tip, 4);
	return DP_ARP_FRAME_LEN;
}
