#!/usr/bin/env bash
# At least once under SIGKILL: three instances, 20 kills at random moments;
# every fault-free alert must be on the alerts topic and nothing else;
# repeated alerts (the same alert_id) are allowed and reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
source tests/integration/fault_lib.sh
cx_fault_setup fault-alo at_least_once
cx_fault_drive --guarantee at_least_once --instances 3 --kills "${CX_FAULT_KILLS:-20}" ${CX_FAULT_DRIVER_ARGS:-}
