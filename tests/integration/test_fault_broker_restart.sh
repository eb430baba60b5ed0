#!/usr/bin/env bash
# Exactly once with the broker restarted mid-run (and kills before and after):
# on a broker of its own (another port, its own data), so that restarting it
# disturbs nothing else; the output equals the fault-free output.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KAFKA_PORT=${CX_FAULT_KAFKA_PORT:-19392}
export KAFKA_INSTANCE_DIR=$(mktemp -d)
source tests/integration/lib.sh
trap 'cx_cleanup; deploy/kafka-local.sh stop >/dev/null 2>&1 || true; rm -rf "$KAFKA_INSTANCE_DIR"' EXIT
source tests/integration/fault_lib.sh
cx_fault_setup fault-broker exactly_once
cx_fault_drive --guarantee exactly_once --instances 3 --broker-restart \
  --kills "${CX_FAULT_KILLS:-20}" ${CX_FAULT_DRIVER_ARGS:-}
