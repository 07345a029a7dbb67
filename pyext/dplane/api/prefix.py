# SPDX-License-Identifier: Apache-2.0
"""CreatePrefix, DeletePrefix, ListPrefixes. Being written."""
