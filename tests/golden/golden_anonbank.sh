#!/usr/bin/env bash
# Golden replay test on real data: January of the Anonymous Bank call center is
# imported and replayed, and the repeat_contact, long_wait and abandonment
# alerts must equal, line for line and in order, those of the independent
# Python reference (tests/reference/anonbank_rules.py); two replays must be
# byte-identical. Run from the repository root after `make`. Exits 0 on pass.
set -euo pipefail

data_dir="${CX_DATA_DIR:-../shared/data}/anonbank"
input="$data_dir/01_January.txt"
cxstream="${CXSTREAM:-build/cxstream}"
rules='repeat_contact long_wait abandonment'

fail() {
  echo "golden_anonbank: FAIL: $*"
  exit 1
}

# Shows the end of a log, then fails with a one-line summary.
fail_with_log() {
  tail -n 5 "$2" | sed 's/^/  | /'
  fail "$1 (end of $(basename "$2") above)"
}

[[ -f "$input" ]] || fail "no $input (set CX_DATA_DIR to the folder holding anonbank/)"
[[ -x "$cxstream" ]] || fail "no $cxstream: run make first"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/golden_anonbank.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The rules exactly as DESIGN.md section 6 states them, whatever the defaults.
settings=(
  -X rules.repeat_contact.window=24h -X rules.repeat_contact.cooldown=24h
  -X rules.repeat_contact.min_contacts=3
  -X rules.long_wait.window=24h -X rules.long_wait.cooldown=24h
  -X rules.long_wait.single_wait=10m -X rules.long_wait.total_wait=30m
  -X rules.abandonment.window=24h -X rules.abandonment.cooldown=24h
  -X rules.abandonment.min_abandoned=2
)

"$cxstream" import anonbank "$input" -o "$tmp/jan.avro" >"$tmp/import.log" 2>&1 ||
  fail_with_log "import failed" "$tmp/import.log"
for run in 1 2; do
  "$cxstream" replay "${settings[@]}" --input-file "$tmp/jan.avro" \
    --out "$tmp/alerts$run.jsonl" >"$tmp/replay$run.log" 2>&1 ||
    fail_with_log "replay $run failed" "$tmp/replay$run.log"
done

python3 tests/reference/anonbank_rules.py "$input" >"$tmp/expected.tsv" 2>"$tmp/reference.log" ||
  fail_with_log "reference failed" "$tmp/reference.log"

# The four columns of the three exact rules' alerts, in file order.
python3 - "$tmp/alerts1.jsonl" "$rules" >"$tmp/actual.tsv" <<'EOF' ||
import json, sys
rules = set(sys.argv[2].split())
with open(sys.argv[1], encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
        try:
            record = json.loads(line)
        except ValueError as e:
            sys.exit(f"line {number} is not JSON: {e}")
        if record.get("type") == "alert" and record["rule"] in rules:
            print("\t".join([record["customer_id"], record["rule"],
                             record["trigger_event_id"], str(int(record["event_time"]))]))
EOF
  fail "cannot read $tmp/alerts1.jsonl"

expected_count=$(wc -l <"$tmp/expected.tsv")
actual_count=$(wc -l <"$tmp/actual.tsv")
(( expected_count > 0 )) || fail "the reference found no alerts in $input"
counts="expected $expected_count alerts ($(tail -n 1 "$tmp/reference.log")), replay gave $actual_count"

cmp -s "$tmp/alerts1.jsonl" "$tmp/alerts2.jsonl" ||
  fail "two replays of the same input differ: $(cmp "$tmp/alerts1.jsonl" "$tmp/alerts2.jsonl" 2>&1 || true); $counts"

if ! diff -u "$tmp/expected.tsv" "$tmp/actual.tsv" >"$tmp/diff.txt"; then
  head -n 40 "$tmp/diff.txt"
  if diff -q <(sort "$tmp/expected.tsv") <(sort "$tmp/actual.tsv") >/dev/null; then
    fail "same alerts in another order; $counts"
  fi
  fail "alerts differ from the reference (diff above); $counts"
fi
echo "golden_anonbank: PASS: $counts; two replays byte-identical"
