# SPDX-License-Identifier: Apache-2.0
"""dplane-cli: the operator's command-line client (being written)."""
