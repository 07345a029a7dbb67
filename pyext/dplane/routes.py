# SPDX-License-Identifier: Apache-2.0
"""Routes to remote next hops (CreateRoute/DeleteRoute/ListRoutes). Being written."""
