#!/usr/bin/env bash
# Scale out and in under exactly once: one instance, two more join at 20% of
# the input, both leave (SIGTERM) at 60%; partitions move twice and are
# restored from the changelog; the output equals the fault-free output.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
source tests/integration/fault_lib.sh
cx_fault_setup fault-scale exactly_once
cx_fault_drive --guarantee exactly_once --scale --kills 0 ${CX_FAULT_DRIVER_ARGS:-}
