#!/usr/bin/env bash
# The local run: the function end to end on this machine, no AWS account needed.
# Embedded ClickHouse (chDB), the Native AOT bootstrap behind a Runtime API emulator, the sample events (or a
# synthetic producer with --generate N), a summary, and a re-delivery that must not duplicate anything.
# ./run.sh --help lists the options.
set -euo pipefail
cd "$(dirname "$0")"

CHDB_LIB="$(scripts/install-chdb.sh)"
export CHDB_LIB

exec dotnet run -c Release --project tools/LocalRun -- "$@"
