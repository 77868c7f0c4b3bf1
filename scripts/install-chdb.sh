#!/usr/bin/env bash
# Installs chDB's libchdb.so (the ClickHouse engine as a library) into a cache outside the repo.
# The library is ~560 MB, so it is never committed; it comes from the npm registry, pinned by
# version and by the tarball's sha512 integrity. A second run finds it in the cache and returns.
# Prints the library's path on stdout (progress goes to stderr).
set -euo pipefail

readonly PACKAGE='@chdb/lib-linux-x64-gnu'
readonly VERSION='26.7.3-stable.1'
readonly INTEGRITY='sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=='

# The project cache: ${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse} (.ci/run empties it).
cache_dir="${CHDB_CACHE_DIR:-${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse}/chdb/$VERSION}"
lib="$cache_dir/libchdb.so"

if [[ -s "$lib" ]]; then
  echo "$lib"
  exit 0
fi

command -v npm >/dev/null || { echo "install-chdb: npm is required to fetch $PACKAGE" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "install-chdb: fetching $PACKAGE@$VERSION" >&2
tarball="$(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" | tail -n 1)"
# node is there wherever npm is; openssl may not be.
actual="$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$work/$tarball")"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "install-chdb: integrity mismatch for $tarball" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$work/$tarball" -C "$work" package/libchdb.so
mkdir -p "$cache_dir"
# Move into place atomically so a concurrent or interrupted run never leaves a partial library.
mv "$work/package/libchdb.so" "$lib.tmp.$$"
mv -f "$lib.tmp.$$" "$lib"
echo "install-chdb: installed $lib" >&2
echo "$lib"
