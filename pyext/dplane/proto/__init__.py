"""Python stubs generated at build time from proto/*.proto (dpdk_pb2, health_pb2, ...)."""
