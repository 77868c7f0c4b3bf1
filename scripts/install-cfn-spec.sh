#!/usr/bin/env bash
# Installs the CloudFormation resource specification that tests/Template.Tests checks template.yaml against.
#
# Source: the npm package @aws-cdk/aws-service-spec (Apache-2.0, published by the AWS CDK team). It ships
# db.json.gz, AWS's CloudFormation registry schemas merged into one database (resources, properties, required
# flags, GetAtt attributes, nested types). It is ~2.6 MB compressed / 15 MB raw, so it is kept in a cache
# outside the repository, never committed.
#
# Idempotent: a second run only re-hashes the cached file (well under a second).
# Output: $CFN_SPEC_DB if set, else <project cache>/aws-service-spec/<version>/db.json.gz, where the project cache is
# ${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse} (.ci/run points it at an empty folder).
set -euo pipefail

SPEC_PACKAGE="@aws-cdk/aws-service-spec"
SPEC_VERSION="0.1.216"
# `npm view @aws-cdk/aws-service-spec@0.1.216 dist.integrity`: the registry's hash of the tarball.
TARBALL_INTEGRITY="sha512-O3Lu6v6J6RnI+Eenklbw8237kV64cTpM94QEXmlcmsIAzhcKrdd+qApZhlTL+H3IDt1JP6Vphbd+OOmq6r8pqw=="
# sha256 of package/db.json.gz inside that tarball, so the cached file can be re-verified without the tarball.
DB_SHA256="3e4003a5a44324bea1841c8f0b7cf7190ee5e66a4cd5c93caad1ad7ad75c4dd2"

cache_root="${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse}/aws-service-spec/${SPEC_VERSION}"
target="${CFN_SPEC_DB:-$cache_root/db.json.gz}"

have_sha256() { echo "$1  $2" | sha256sum --check --status 2>/dev/null; }

if [[ -f "$target" ]] && have_sha256 "$DB_SHA256" "$target"; then
  echo "install-cfn-spec: $SPEC_PACKAGE@$SPEC_VERSION db.json.gz already at $target"
  exit 0
fi

command -v npm >/dev/null || { echo "install-cfn-spec: npm is required (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "${SPEC_PACKAGE}@${SPEC_VERSION}" >/dev/null)
tarball="$(ls "$work"/*.tgz)"

actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$TARBALL_INTEGRITY" ]]; then
  echo "install-cfn-spec: integrity mismatch for $tarball" >&2
  echo "  expected $TARBALL_INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$work" package/db.json.gz package/LICENSE
if ! have_sha256 "$DB_SHA256" "$work/package/db.json.gz"; then
  echo "install-cfn-spec: db.json.gz in the verified tarball does not have the pinned sha256" >&2
  exit 1
fi

mkdir -p "$(dirname "$target")"
cp "$work/package/LICENSE" "$(dirname "$target")/LICENSE"
# Write then rename, so an interrupted run never leaves a half-written file that looks installed.
cp "$work/package/db.json.gz" "$target.tmp"
mv "$target.tmp" "$target"
echo "install-cfn-spec: installed $SPEC_PACKAGE@$SPEC_VERSION db.json.gz at $target"
