# SPDX-License-Identifier: Apache-2.0
"""Periodic announcements to the VMs (gratuitous ARP, NA, RA): being written."""


def install(svc) -> None:
    pass
