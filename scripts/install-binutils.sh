#!/usr/bin/env bash
# Makes sure objdump (GNU binutils) is there: tests/Template.Tests checks with `objdump -T` that the published
# bootstrap needs at most GLIBC 2.34 (Amazon Linux 2023, provided.al2023).
# Installs binutils with apt-get when it is missing and apt-get can run (root, or sudo without a password);
# otherwise fails with the command to run.
set -euo pipefail

if command -v objdump >/dev/null; then
  echo "install-binutils: objdump already at $(command -v objdump)" >&2
  exit 0
fi

if command -v apt-get >/dev/null; then
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get install -y --no-install-recommends binutils >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends binutils >&2; }
  elif sudo -n true 2>/dev/null; then
    sudo apt-get install -y --no-install-recommends binutils >&2 || { sudo apt-get update >&2 && sudo apt-get install -y --no-install-recommends binutils >&2; }
  fi
fi

command -v objdump >/dev/null || {
  echo "install-binutils: objdump is missing: install GNU binutils (sudo apt-get install binutils, or dnf install binutils)" >&2
  exit 1
}
echo "install-binutils: installed objdump at $(command -v objdump)" >&2
