# SPDX-License-Identifier: Apache-2.0
"""One module per feature: its domain objects, the Python home of firmware/<feature>/.

Every module here is imported at start-up (app.load_features()); its classes marked with
`@component` (assembly.py) are built with the objects their constructors ask for, configured
before the dataplane starts and started once it runs. A feature's RPCs live in the module of
the same name in dplane.api.
"""
