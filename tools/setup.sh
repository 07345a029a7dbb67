#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install everything dplane needs on Debian bookworm (as root), then build and install it.
# Usage: tools/setup.sh [--editable]   (--editable: a development install that rebuilds on import)
set -eu
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential dpkg-dev pkg-config ninja-build clang-format \
    libdpdk-dev dpdk-dev libsystemd-dev libpcap-dev libnuma-dev \
    iproute2 procps isc-dhcp-client iputils-ping iperf3 \
    crossbuild-essential-arm64 qemu-user-static skopeo >/dev/null
# (the aarch64 cross build: tools/mksysroot downloads Debian's arm64 packages into its own
# cache with a private apt state, so no `dpkg --add-architecture arm64` is needed; the same
# way tools/mkdpdk fetches DPDK's source package, so no deb-src entry is added either)

python3 -m pip install -q --upgrade pip
# Debian's DPDK holds 32 ports; dplane links one built from Debian's source of the same
# version with room for 132 (2 PFs + 126 VFs): tools/mkdpdk into /usr/local for this machine,
# tools/mksysroot (which runs tools/mkdpdk) into the arm64 sysroot for the cross build. Both
# are cached (/var/cache/dplane-dpdk): a second run only checks that they are current.
# (meson, ninja and pyelftools build DPDK; with the rest of dplane's build requirements they
# also serve the development install, which builds without isolation, and the build tests)
python3 -m pip install -q meson-python meson ninja 'Cython>=3' grpcio-tools==1.85.1 pyelftools
python3 tools/mkdpdk
python3 tools/mksysroot
if [ "${1:-}" = "--editable" ]; then
    python3 -m pip install -q --no-build-isolation -e '.[test]'
else
    python3 -m pip install -q '.[test]'
fi
python3 -m dplane -- --version
