#!/usr/bin/env bash
# Quality gate on our own labelled set: bench/quality generates 300 customers
# with build/cxstream-gen --labelled (story customers whose journeys must fire
# known rules of docs/rules.md, ordinary customers who must fire none),
# replays them with $CXSTREAM (default build/cxstream; run-all.sh also passes
# the ASan build) and fails when any rule's precision or recall is below 0.95:
# then a definition or an implementation needs another look (the table says
# which customers were missed or unexpected). Run from the repository root
# after `make`. Exits with bench/quality's status; its last line says why.
set -uo pipefail
cd "$(dirname "$0")/../.."
export CXSTREAM="${CXSTREAM:-build/cxstream}"
bench/quality --customers 300 --min 0.95
