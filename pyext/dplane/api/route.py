# SPDX-License-Identifier: Apache-2.0
"""CreateRoute, DeleteRoute, ListRoutes. Being written."""
