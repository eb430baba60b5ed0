#!/usr/bin/env bash
# Installs what building and testing cxstream needs, only when it is missing:
# Debian packages (C libraries, tools) and the Python packages the test
# checkers use. Safe to run again; prints nothing when all is there.
set -euo pipefail

debs=(build-essential pkg-config librdkafka-dev libavro-dev libjemalloc-dev
      libcmocka-dev libxxhash-dev libssl-dev libmicrohttpd-dev zlib1g-dev kcat jq python3 python3-pip maven
      valgrind time
      openjdk-17-jre-headless)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK from elsewhere (and its Maven) also does.
if command -v java >/dev/null && command -v mvn >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do
    case "$p" in maven|openjdk-17-jre-headless) ;; *) tmp+=("$p");; esac
  done; missing=("${tmp[@]+"${tmp[@]}"}")
fi
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]+"${missing[@]}"}"; do
    case "$p" in python3|python3-pip) ;; *) tmp+=("$p");; esac
  done; missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python checkers of the integration and golden tests.
if ! python3 -c 'import fastavro, confluent_kafka' 2>/dev/null; then
  echo "deps: installing Python packages fastavro, confluent-kafka" >&2
  python3 -m pip install -q fastavro confluent-kafka 2>/dev/null \
    || python3 -m pip install -q --break-system-packages fastavro confluent-kafka
fi
