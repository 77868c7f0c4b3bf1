#!/usr/bin/env python3
"""Prints the function's Architecture (arm64 or x86_64) as `sam deploy` will set it, for the Makefile's check.

SAM runs `make build-MskToClickHouseFunction` with only ARTIFACTS_DIR added to the environment: neither the template's
Architectures nor --parameter-overrides reach make. So this reads the same sources `sam deploy` does:
  1. samconfig.toml, [<config env>.deploy.parameters] parameter_overrides "Architecture=..." (config env: argv[1],
     default "default"), else [<config env>.global.parameters];
  2. else template.yaml's Architecture parameter Default.
Usage: function-architecture.py [CONFIG_ENV]   (run from the repository root)
"""
import re
import sys
from pathlib import Path

try:
    import tomllib  # python 3.11+
except ImportError:  # e.g. Amazon Linux 2023's python 3.9: read the two sections this needs by hand
    tomllib = None

root = Path(__file__).resolve().parent.parent
env = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "default"


def from_overrides(overrides):
    if isinstance(overrides, str):
        overrides = overrides.split()
    for item in overrides or []:
        name, _, value = str(item).partition("=")
        if name.strip() == "Architecture":
            return value.strip().strip('"')
    return None


def overrides_without_tomllib(text, table):
    """The parameter_overrides of [table] in samconfig.toml's plain layout (a string or a list of strings)."""
    body = re.search(r"^\[" + re.escape(table) + r"\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if not body:
        return None
    value = re.search(r"^parameter_overrides\s*=\s*(\[.*?\]|\"[^\"]*\")", body.group(1), re.MULTILINE | re.DOTALL)
    if not value:
        return None
    return re.findall(r"\"([^\"]*)\"", value.group(1)) if value.group(1).startswith("[") else value.group(1).strip('"')


config = root / "samconfig.toml"
if config.exists():
    for command in ("deploy", "global"):
        if tomllib is not None:
            with config.open("rb") as f:
                overrides = tomllib.load(f).get(env, {}).get(command, {}).get("parameters", {}).get("parameter_overrides")
        else:
            overrides = overrides_without_tomllib(config.read_text(), f"{env}.{command}.parameters")
        value = from_overrides(overrides)
        if value:
            print(value)
            sys.exit(0)

# template.yaml: the Default under "  Architecture:" in Parameters (plain text: the file has CloudFormation tags).
text = (root / "template.yaml").read_text()
match = re.search(r"^  Architecture:\n(?:    .*\n)*?    Default: *\"?([a-z0-9_]+)\"?", text, re.MULTILINE)
if not match:
    sys.exit("function-architecture: no Architecture parameter Default in template.yaml")
print(match.group(1))
