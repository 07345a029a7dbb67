#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install everything dplane needs on Debian bookworm (as root), then build and install it.
# Usage: tools/setup.sh [--editable]   (--editable: a development install that rebuilds on import)
set -eu
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential pkg-config ninja-build clang-format \
    libdpdk-dev dpdk-dev libsystemd-dev libpcap-dev libnuma-dev \
    iproute2 procps isc-dhcp-client iputils-ping iperf3 \
    crossbuild-essential-arm64 qemu-user-static skopeo >/dev/null
# (the aarch64 cross build: tools/mksysroot downloads Debian's arm64 packages into its own
# cache with a private apt state, so no `dpkg --add-architecture arm64` is needed)

python3 -m pip install -q --upgrade pip
if [ "${1:-}" = "--editable" ]; then
    # build requirements must already be present without build isolation
    python3 -m pip install -q meson-python meson ninja 'Cython>=3' grpcio-tools==1.85.1
    python3 -m pip install -q --no-build-isolation -e '.[test]'
else
    python3 -m pip install -q '.[test]'
fi
python3 -m dplane -- --version
