#!/usr/bin/env bash
# Runs every test: the CMocka unit tests (release build, ASan+UBSan build,
# then the release build under valgrind memcheck), the golden replay test and
# the integration tests against a real broker (each with both builds of
# cxstream). Prints one line per program and a final "N passed, N failed" line
# counting test cases; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
log_dir=build/test-logs
mkdir -p "$log_dir"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# A CMocka program: count its cases from its own summary lines. Optional:
# a label for its result line and a command to run it under (valgrind).
run_cmocka() {
  local bin=$1 name log rc ok bad
  name=${2:-${bin#build/}}
  log="$log_dir/${name//\//_}.log"
  ${3:+$3} "$bin" >"$log" 2>&1
  rc=$?
  ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | tail -1)
  bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log" | tail -1)
  ok=${ok:-0}; bad=${bad:-0}
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi   # crashed or sanitizer report
  passed=$((passed + ok)); failed=$((failed + bad))
  if [ "$bad" -eq 0 ]; then
    printf 'PASS %-40s %s case(s)\n' "$name" "$ok"
  else
    printf 'FAIL %-40s %s passed, %s failed (log: %s)\n' "$name" "$ok" "$bad" "$log"
    failures+=("$name")
    tail -30 "$log" | sed 's/^/    /'
  fi
}

# A script test: one case; its last line says what it checked.
run_script() {
  local label=$1; shift
  local log="$log_dir/${label//[\/ ]/_}.log"
  "$@" >"$log" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); printf 'PASS %-40s %s\n' "$label" "$(tail -1 "$log")"
  else
    failed=$((failed + 1)); failures+=("$label")
    printf 'FAIL %-40s (log: %s)\n' "$label" "$log"
    tail -40 "$log" | sed 's/^/    /'
  fi
}

for bin in build/test_*; do [ -x "$bin" ] && run_cmocka "$bin"; done
for bin in build/asan/test_*; do [ -x "$bin" ] && run_cmocka "$bin"; done
# Memcheck over the release unit tests (about 1.5 min): any error or definite
# leak fails the program; cases are counted as above. CX_SKIP_VALGRIND=1 skips.
if [ "${CX_SKIP_VALGRIND:-0}" != 1 ]; then
  valgrind_cmd="valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite"
  for bin in build/test_*; do
    [ -x "$bin" ] && run_cmocka "$bin" "valgrind/${bin#build/}" "$valgrind_cmd"
  done
fi

for script in tests/golden/*.sh; do
  run_script "$script" bash "$script"
  run_script "$script (asan)" env CXSTREAM=build/asan/cxstream bash "$script"
done
if [ "${CX_SKIP_INTEGRATION:-0}" != 1 ]; then
  for script in tests/integration/test_*.sh; do
    [ -f "$script" ] || continue
    run_script "$script" bash "$script"
    run_script "$script (asan)" env CXSTREAM=build/asan/cxstream bash "$script"
  done
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
