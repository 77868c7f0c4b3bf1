#!/usr/bin/env bash
# Benchmarks against the physical limit: decode/encode in-process, then the Native AOT bootstrap end to end through
# the Runtime API emulator into the embedded ClickHouse (chDB), compared in the same run with the engine's own
# ingest of the same rows and against the protocol floor; cold start AOT vs JIT, memory, request compression on the
# wire, cost per million records; the scale simulation (N processes over P partitions; alone: ./bench.sh --scale).
# Prints markdown tables and writes artifacts/bench/results.json. Options: ./bench.sh --help.
set -euo pipefail
cd "$(dirname "$0")"

CHDB_LIB="$(scripts/install-chdb.sh)"
export CHDB_LIB

dotnet run -c Release --project bench/EndToEnd -- "$@"
