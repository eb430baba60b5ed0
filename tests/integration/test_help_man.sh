#!/usr/bin/env bash
# The man page is what `cxstream help --man` writes (from the same texts as
# --help), every subcommand answers --help with its own usage and exit 0,
# every usage line of --help is in the man page, and every configuration key
# is documented in the README. No broker needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
CXSTREAM=${CXSTREAM:-build/cxstream}

"$CXSTREAM" help --man | cmp - deploy/cxstream.1 \
  || { echo "deploy/cxstream.1 is stale: run $CXSTREAM help --man > deploy/cxstream.1"; exit 1; }

# The SYNOPSIS of the man page, with roff's \- back to -.
synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.fi/p' deploy/cxstream.1 | sed 's/\\-/-/g')
commands=0
for command in run replay demo produce import rules config help; do
  out=$("$CXSTREAM" "$command" --help) || { echo "$command --help exited $?"; exit 1; }
  grep -q "^Usage:" <<<"$out" || { echo "$command --help prints no usage"; exit 1; }
  # Each usage line of the command (from "cxstream ..." to the blank line) is in the man page.
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    grep -qF -- "${line#  }" <<<"$synopsis" || { echo "man page lacks: ${line#  }"; exit 1; }
  done < <(sed -n '2,/^$/p' <<<"$out")
  [ "$("$CXSTREAM" help "$command")" = "$out" ] || { echo "help $command differs from $command --help"; exit 1; }
  commands=$((commands + 1))
done

# Every key: in --help, in the man page, in the README.
keys=0
while IFS='=' read -r key _; do
  grep -q "^  $key " <("$CXSTREAM" --help) || { echo "--help lacks $key"; exit 1; }
  grep -qF ".B $(sed 's/-/\\-/g' <<<"$key")" deploy/cxstream.1 || { echo "man page lacks $key"; exit 1; }
  grep -qF "| \`$key\`" README.md || { echo "README lacks the key $key"; exit 1; }
  keys=$((keys + 1))
done < <("$CXSTREAM" config dump)

"$CXSTREAM" nonsense >/dev/null 2>&1 && { echo "an unknown command exited 0"; exit 1; }
[ "$("$CXSTREAM" help nonsense >/dev/null 2>&1; echo $?)" = 2 ] || { echo "help of an unknown command did not exit 2"; exit 1; }
echo "help and man page agree: $commands commands, $keys keys in --help, man page and README"
