# SPDX-License-Identifier: Apache-2.0
"""Alias prefixes routed to an interface (CreatePrefix/DeletePrefix/ListPrefixes). Being
written."""
