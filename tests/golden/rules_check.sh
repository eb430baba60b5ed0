#!/usr/bin/env bash
# `cxstream rules check FILE`: a valid rules file passes and lists the enabled
# rules; a bad value, an unknown key and a missing ${ENV} are refused with
# exit 2 and a message naming the key and the file line.
set -euo pipefail
cd "$(dirname "$0")/../.."
CXSTREAM=${CXSTREAM:-build/cxstream}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "rules_check: FAIL: $*"; exit 1; }

cat > "$work/good.conf" <<'CONF'
rules.repeat_contact.min_contacts=4
rules.digital_friction.enabled=false
rules.long_wait.weight=12.5
actions.churn.high=call_within_1h
CONF
out=$("$CXSTREAM" rules check "$work/good.conf") || fail "a valid file was refused: $out"
case "$out" in *"ok; rules enabled:"*repeat_contact*) ;; *) fail "unexpected output: $out";; esac
case "$out" in *digital_friction*) fail "a disabled rule is listed: $out";; esac
case "$out" in *"(14 of 15)"*) ;; *) fail "expected 14 of 15 rules enabled: $out";; esac

expect_refusal() {  # file content, expected message part
  printf '%s\n' "$1" > "$work/bad.conf"
  set +e; msg=$("$CXSTREAM" rules check "$work/bad.conf" 2>&1); rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "'$1' exited $rc, expected 2 ($msg)"
  case "$msg" in *"$2"*) ;; *) fail "'$1': message '$msg' lacks '$2'";; esac
}
expect_refusal "rules.repeat_contact.window=24x" "bad.conf:1: rules.repeat_contact.window: '24x'"
expect_refusal "rules.repeat_contact.windw=3h" "did you mean 'rules.repeat_contact.window'"
expect_refusal "rules.negative_voice.max_sentiment=-2" "expected a number from -1 to 1"
expect_refusal "actions.churn.high=\${CX_RULES_CHECK_UNSET_VAR}" "CX_RULES_CHECK_UNSET_VAR is not set"
set +e; "$CXSTREAM" rules check "$work/none.conf" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "a missing file exited $rc, expected 2"
echo "rules_check: PASS: valid file accepted (14 of 15 rules), 5 bad inputs refused with exit 2"
