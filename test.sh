#!/usr/bin/env bash
# Runs every test project of the solution against the embedded ClickHouse (chDB) and prints one
# closing line "N passed, N failed[, N skipped]" summed over all test assemblies.
#
# Prerequisites (README, Prerequisites): the .NET 10 SDK, node + npm, python3 and cfn-lint (`pipx install cfn-lint`,
# which brings AWS's SAM translator). Everything else is installed by scripts/install-*.sh, all of which run here,
# into the project cache: ${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse}.
set -euo pipefail
cd "$(dirname "$0")"

# Prerequisites the install scripts do not install: fail early with the exact instruction.
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is missing: https://dotnet.microsoft.com/download/dotnet/10.0" >&2; exit 1; }
command -v npm >/dev/null || { echo "test.sh: node and npm are missing: sudo apt-get install nodejs npm" >&2; exit 1; }
command -v python3 >/dev/null || { echo "test.sh: python3 is missing: sudo apt-get install python3" >&2; exit 1; }
command -v cfn-lint >/dev/null || { echo "test.sh: cfn-lint is missing: pipx install cfn-lint" >&2; exit 1; }

# The python that can import cfn-lint and the SAM translator (tests/Template.Tests/sam_translate.py needs both):
# python3 itself for a pip install, else the interpreter of cfn-lint's own script (pipx keeps it in a venv).
if [[ -z "${CFN_LINT_PYTHON:-}" ]]; then
  if python3 -c 'import cfnlint, samtranslator' 2>/dev/null; then
    CFN_LINT_PYTHON=python3
  else
    shebang="$(head -n 1 "$(command -v cfn-lint)")"
    case "$shebang" in
      '#!'*python*) CFN_LINT_PYTHON="${shebang#\#!}" ;;
      *) CFN_LINT_PYTHON="$(cd /tmp && cfn-lint --version >/dev/null 2>&1 && command -v python3)" ;;
    esac
  fi
fi
"$CFN_LINT_PYTHON" -c 'import cfnlint, samtranslator' 2>/dev/null || {
  echo "test.sh: no python can import cfn-lint and its SAM translator (tried $CFN_LINT_PYTHON): pipx install cfn-lint" >&2
  exit 1
}
export CFN_LINT_PYTHON

# Every install step, every run: a missing or broken one fails here, not on a user's machine.
for script in scripts/install-*.sh; do
  [[ "$script" == scripts/install-chdb.sh ]] && continue
  echo "test.sh: $script" >&2
  "$script" >&2
done
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
