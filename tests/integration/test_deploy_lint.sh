#!/usr/bin/env bash
# deploy/ checked with what this machine has, no cluster and no Docker
# daemon needed: every YAML parses (python3 yaml), the Kubernetes manifests
# render with `kubectl kustomize` and carry the probes, the example configs
# pass `cxstream config check`, the systemd unit passes `systemd-analyze
# verify`, the Dockerfile's COPY sources exist and it runs as a non-root
# user, and shellcheck finds no warning in the scripts. Tools that are
# missing are named in the last line, not failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
CXSTREAM=${CXSTREAM:-build/cxstream}
skipped=()
checked=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - <<'PY'
import glob, yaml
files = ["deploy/docker-compose.yml"] + sorted(glob.glob("deploy/k8s/*.yaml"))
kinds = {}
for f in files:
    for doc in yaml.safe_load_all(open(f)):
        if doc:
            kinds[doc.get("kind", "compose")] = f
need = {"Deployment", "ConfigMap", "Secret", "ScaledObject", "TriggerAuthentication", "Service", "compose"}
missing = need - set(kinds)
assert not missing, f"missing kinds: {missing}"
dep = yaml.safe_load(open("deploy/k8s/deployment.yaml"))
c = dep["spec"]["template"]["spec"]["containers"][0]
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
compose = yaml.safe_load(open("deploy/docker-compose.yml"))
assert {"kafka", "cxstream"} <= set(compose["services"])
PY
checked+=("yaml")

if command -v kubectl >/dev/null && timeout 60 kubectl kustomize deploy/k8s > "$tmp/k8s.yaml"; then
  [ "$(grep -c '^kind:' "$tmp/k8s.yaml")" -ge 7 ] || { echo "kustomize rendered too little"; exit 1; }
  checked+=("kubectl kustomize")
else
  skipped+=("kubectl")
fi

# The example configs and the ConfigMap's file, as `run` would load them.
env CX_SASL_USERNAME=u CX_SASL_PASSWORD=p CX_BOOTSTRAP_SERVERS=k:9093 \
  "$CXSTREAM" config check -c deploy/examples/cxstream-alo.conf
env CX_SASL_USERNAME=u CX_SASL_PASSWORD=p "$CXSTREAM" config check -c deploy/examples/cxstream-eos.conf
python3 -c 'import yaml,sys; sys.stdout.write(yaml.safe_load(open("deploy/k8s/configmap.yaml"))["data"]["cxstream.conf"])' \
  > "$tmp/configmap.conf"
env CX_SASL_USERNAME=u CX_SASL_PASSWORD=p CX_BOOTSTRAP_SERVERS=k:9093 \
  "$CXSTREAM" config check -c "$tmp/configmap.conf" >/dev/null
checked+=("config check")

if command -v systemd-analyze >/dev/null; then
  # The unit as installed, with paths of this checkout (verify wants them to exist).
  sed -e "s|/usr/local/bin/cxstream|$PWD/$CXSTREAM|g" -e 's|^User=.*|User=root|' \
      -e 's|^Group=.*|Group=root|' -e "s|^WorkingDirectory=.*|WorkingDirectory=$PWD|" \
      -e 's|^EnvironmentFile=|EnvironmentFile=-|' deploy/systemd/cxstream.service > "$tmp/cxstream.service"
  systemd-analyze verify --man=no "$tmp/cxstream.service"
  checked+=("systemd-analyze verify")
else
  skipped+=("systemd-analyze")
fi

# Dockerfile: COPY sources exist, two stages, Debian bases, a numeric non-root USER.
grep -q '^FROM debian:bookworm AS build' deploy/Dockerfile
grep -q '^FROM debian:bookworm-slim' deploy/Dockerfile
grep -qE '^USER [1-9][0-9]*' deploy/Dockerfile
while read -r _ sources; do
  for src in ${sources% *}; do
    case "$src" in --from=*) continue 2 ;; esac
    [ -e "$src" ] || { echo "Dockerfile: COPY $src: no such file"; exit 1; }
  done
done < <(grep '^COPY ' deploy/Dockerfile)
checked+=("Dockerfile structure")
if command -v hadolint >/dev/null; then hadolint deploy/Dockerfile; checked+=("hadolint"); else skipped+=("hadolint"); fi

# kafka-local's cluster ids: a random id starting with '-' made the format
# tool take it for an option (about one start in 64 failed, "--cluster-id:
# expected one argument"); 500 ids held about 8 such ones before the fix.
bash deploy/kafka-local.sh cluster-id 500 > "$tmp/ids"
[ "$(wc -l < "$tmp/ids")" -eq 500 ] || { echo "kafka-local cluster-id: not 500 ids"; exit 1; }
if grep -v -E '^[A-Za-z0-9_][A-Za-z0-9_-]{21}$' "$tmp/ids"; then
  echo "kafka-local cluster-id: ids above start with '-' or are not 22 URL-safe base64 characters"
  exit 1
fi
checked+=("kafka-local cluster ids")

if command -v shellcheck >/dev/null; then
  shellcheck -S warning deploy/kafka-local.sh deploy/install-deps.sh
  checked+=("shellcheck")
else
  skipped+=("shellcheck")
fi
echo "deploy lint: ${checked[*]} ok${skipped:+; not available here: ${skipped[*]}}"
