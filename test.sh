#!/usr/bin/env bash
# Runs every test project of the solution against the embedded ClickHouse (chDB) and prints one
# closing line "N passed, N failed[, N skipped]" summed over all test assemblies.
# Needs only the .NET SDK, node and npm; the engine library is fetched into a cache on first use.
set -euo pipefail
cd "$(dirname "$0")"

CHDB_LIB="$(scripts/install-chdb.sh)"
export CHDB_LIB

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

status=0
dotnet test --solution Serverless.sln --no-progress 2>&1 | tee "$log" || status=$?

# The MTP runner closes with one summary over all assemblies: "total: N", "failed: N", "succeeded: N", "skipped: N".
count() { grep -E "^[[:space:]]+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
total="$(count total)"
failed="$(count failed)"
passed="$(count succeeded)"
skipped="$(count skipped)"

line="$passed passed, $failed failed"
if [[ "$skipped" -gt 0 ]]; then
  line+=", $skipped skipped"
fi
echo
echo "$line"

if [[ "$status" -ne 0 ]]; then
  exit "$status"
fi
if [[ "$failed" -gt 0 ]]; then
  exit 1
fi
if [[ "$total" -eq 0 ]]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
