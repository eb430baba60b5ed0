#!/usr/bin/env bash
# Exactly once under SIGKILL: three instances in one group (the first with two
# processing threads), 20 kills of a random instance at random moments, each
# started again; the read_committed alerts must equal the fault-free output,
# every rule, alert by alert: nothing missing, nothing doubled.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
source tests/integration/fault_lib.sh
cx_fault_setup fault-eos exactly_once
cx_fault_drive --guarantee exactly_once --instances 3 --threads-of-first 2 \
  --kills "${CX_FAULT_KILLS:-20}" ${CX_FAULT_DRIVER_ARGS:-}
