#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build dplane with AddressSanitizer + UBSan (meson option `sanitize`) into a virtualenv of
# its own and run the packet-level tests against it: any invalid memory access or undefined
# behaviour in the firmware aborts the service and fails the test.
# Usage: tools/sanitize-test.sh [pytest args...]   (default: the packet, node and responder
# tests, the firewall's and the NAT's, and the fuzzing of the NAT's rewrites)
set -eu
cd "$(dirname "$0")/.."
venv=${SANITIZE_VENV:-/tmp/dplane-sanitize}

python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q meson-python meson ninja 'Cython>=3' grpcio-tools==1.85.1
"$venv/bin/pip" install -q --no-build-isolation -Cbuild-dir=build/sanitize \
    -Csetup-args=-Dsanitize=true '.[test]'

# the Python interpreter is not instrumented: the sanitizer runtimes must be loaded first
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# the NAT's rewrites, fuzzed in the instrumented build: 100 000 arbitrary inputs per property
# (2 000 examples of 50 each: hypothesis needs about 1.6 ms an example, the C microseconds an
# input), and 3 000 well-formed packets per property (scapy builds them, about 1 ms each)
DPLANE_FUZZ_RAW_EXAMPLES=${DPLANE_FUZZ_RAW_EXAMPLES:-2000}
DPLANE_FUZZ_RAW_BATCH=${DPLANE_FUZZ_RAW_BATCH:-50}
DPLANE_FUZZ_PACKET_EXAMPLES=${DPLANE_FUZZ_PACKET_EXAMPLES:-3000}
export DPLANE_FUZZ_RAW_EXAMPLES DPLANE_FUZZ_RAW_BATCH DPLANE_FUZZ_PACKET_EXAMPLES
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_init_order=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS

# (not the two-VM TCP test: the instrumented worker is too slow to keep a kernel TCP sender
# from filling its TAP, which is congestion, not the loss that test is about)
if [ $# -eq 0 ]; then
    set -- tests/packet tests/nodes tests/overlay tests/dhcp tests/neigh tests/firmware \
        tests/firewall tests/nat tests/lb tests/offload tests/worker \
        tests/fuzz/test_nat_rewrite_fuzz.py \
        -k "(not fuzz or nat_rewrite) and not tcp_between_two_vms"
fi
exec "$venv/bin/python" -m pytest -p no:cacheprovider -n 2 "$@"
