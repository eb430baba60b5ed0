#!/usr/bin/env bash
# The prefetch hints of the hot path are in the release binary. GCC takes a
# function whose only effects are __builtin_prefetch calls for one without
# effects and deletes the calls to it (and deletes a loop of them): the
# customer's blocks were never prefetched, only the rules line, and the
# codec's encode prefetched nothing. The hints are asm (cx_prefetch_line);
# this checks that they survive compilation. No broker needed; x86-64 only
# (objdump's "prefetch"), the release build (build/cxstream) whatever
# CXSTREAM says: optimisation is what deletes them.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(uname -m)" != x86_64 ] || ! command -v objdump >/dev/null; then
  echo "skipped: needs x86-64 and objdump"
  exit 0
fi
binary=build/cxstream
[ -x "$binary" ] || { echo "$binary is missing: make all"; exit 1; }

# Prefetch instructions per function of the binary.
counts=$(objdump -d --no-show-raw-insn "$binary" |
  awk '/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3) }
       /\tprefetch/ { n[fn]++ }
       END { for (f in n) print f, n[f] }')
count_in() { # the sum over functions whose name matches $1 (an awk regex)
  awk -v re="$1" '$1 ~ re { sum += $2 } END { print sum + 0 }' <<<"$counts"
}

# The blocks an event reads: rules, log, sessions, digital, signals, cases,
# profile, 1 to 4 lines each; the old code had none but the rules line.
blocks=$(count_in 'prefetch_blocks')
[ "$blocks" -ge 8 ] || { echo "prefetch_blocks: $blocks prefetch instructions (want >= 8)"; exit 1; }
encode=$(count_in '^cx_state_codec_encode')
[ "$encode" -ge 1 ] || { echo "cx_state_codec_encode: no prefetch instruction"; exit 1; }
for hint in cx_state_prefetch_slot cx_state_prefetch_record; do
  [ "$(count_in "^$hint\$")" -ge 1 ] || { echo "$hint: no prefetch instruction"; exit 1; }
done
echo "prefetch hints present (blocks: $blocks, codec encode: $encode)"
