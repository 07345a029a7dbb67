/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classes of packets the `cls` node recognises. A feature attaches its node to a class from
 * a constructor (dp_cls_register(DP_CLS_VF_ARP, "arp")); a class nobody handles is a counted
 * drop (cls_no_handler). cls never lists its children.
 */
#ifndef DP_CLS_H
#define DP_CLS_H

#include <stdint.h>

enum dp_cls_class {
	DP_CLS_VF_ARP,    /* ARP from a VM */
	DP_CLS_VF_ND,     /* IPv6 NS / RS from a VM */
	DP_CLS_VF_IPV4,   /* any other IPv4 from a VM */
	DP_CLS_VF_IPV6,   /* any other IPv6 from a VM */
	DP_CLS_PF_TUNNEL, /* IPv4-in-IPv6 or IPv6-in-IPv6 from the underlay */
	DP_CLS_CLASS_COUNT,
};

void dp_cls_register(enum dp_cls_class cls, const char *node);
/* UDP to this destination port within a class goes to node instead (e.g. DHCP: 67). */
void dp_cls_register_udp(enum dp_cls_class cls, uint16_t port, const char *node);

#endif
