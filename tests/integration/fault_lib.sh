# Sourced by the fault tests (test_fault_*.sh) after lib.sh: generates the
# events, loads them into a topic of CX_FAULT_PARTITIONS partitions, writes the
# instances' config and the fault-free reference (a file replay of the same
# events as the same partitions), then hands over to fault_driver.py.
# Size: CX_FAULT_CUSTOMERS x CX_FAULT_DAYS (about 2.3 events per customer
# and day); issue-scale runs set them higher (README, "Fault tests").
# Batches of 50 messages: many commits for a kill to fall between, and a run
# long enough for the driver's 20 kills (with 500, once restores took ~25
# ms, a group could finish the ~400k events after 2 kills).
CX_FAULT_CUSTOMERS=${CX_FAULT_CUSTOMERS:-20000}
CX_FAULT_DAYS=${CX_FAULT_DAYS:-8}
CX_FAULT_PARTITIONS=${CX_FAULT_PARTITIONS:-6}
CX_FAULT_SEED=${CX_FAULT_SEED:-$(date +%s)}

# cx_fault_setup NAME GUARANTEE: sets $prefix and writes $work/cxstream.conf,
# $work/events.avro and $work/reference.jsonl.
cx_fault_setup() {
  prefix="it-$1-$$-$(date +%s)"
  deploy/kafka-local.sh create-topic "$prefix.interactions:$CX_FAULT_PARTITIONS" \
    "$prefix.alerts:3" "$prefix.dlq:1" "$prefix.late:1" "$prefix.profiles:3:compact" >/dev/null
  build/cxstream-gen --customers "$CX_FAULT_CUSTOMERS" --days "$CX_FAULT_DAYS" \
    --seed "$CX_FAULT_SEED" -o "$work/events.avro"
  "$CXSTREAM" produce --input-file "$work/events.avro" --topic "$prefix.interactions" \
    -X kafka.bootstrap.servers="$BOOTSTRAP"
  cx_write_conf "$2" 50
  build/cxstream replay -c "$work/cxstream.conf" --input-file "$work/events.avro" \
    --partitions "$CX_FAULT_PARTITIONS" --out "$work/reference.jsonl"
}

# cx_fault_drive [fault_driver.py options]
cx_fault_drive() {
  python3 tests/integration/fault_driver.py --cxstream "$CXSTREAM" --bootstrap "$BOOTSTRAP" \
    --config "$work/cxstream.conf" --group "$prefix" --topic "$prefix.interactions" \
    --alerts-topic "$prefix.alerts" --reference "$work/reference.jsonl" \
    --seed "$CX_FAULT_SEED" --log-dir "$work" "$@" \
    || { for f in "$work"/instance*.log; do echo "== $f"; tail -15 "$f"; done; return 1; }
}
