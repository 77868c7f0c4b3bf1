# Build of the Lambda functions for AWS SAM (template.yaml: Metadata BuildMethod: makefile).
#
# `sam build` runs `make build-<Function>` for each of the three functions (one bootstrap, published once: see
# publish-function) with ARTIFACTS_DIR=<dir> in the environment; by hand:
#   make build-MskToClickHouseFunction ARTIFACTS_DIR=/tmp/out                       # checks against samconfig [default]
#   make build-MskToClickHouseFunction ARTIFACTS_DIR=/tmp/out SAM_CONFIG_ENV=prod   # ... against [prod]
#
# Two architectures must agree, or Lambda fails every invocation with Runtime.InvalidEntrypoint:
# - ARCH, the binary's: the Native AOT target (x86_64|amd64 -> linux-x64, aarch64|arm64 -> linux-arm64). Default: the
#   build host (`uname -m`), because Native AOT links with the host's native toolchain.
# - ARCHITECTURE, the function's (template parameter Architecture). SAM passes make nothing but ARTIFACTS_DIR - not the
#   template's Architectures, not --parameter-overrides - so it is read from what `sam deploy` reads:
#   samconfig.toml's [$(SAM_CONFIG_ENV)] parameter_overrides, else the template's default (scripts/function-architecture.py).
#   If you deploy with `--parameter-overrides Architecture=...` or `--config-env X`, export ARCHITECTURE or
#   SAM_CONFIG_ENV for `sam build` too (sam passes its environment on to make).
# A mismatch stops the build with a message saying both values and the ways out; after publishing, the bootstrap's
# ELF header is checked against ARCHITECTURE too. docs/deploy.md has the arm64 and container (build-dotnet10) builds.

ARCH ?= $(shell uname -m)
SAM_CONFIG_ENV ?= default
ARCHITECTURE ?= $(shell python3 "$(CURDIR)/scripts/function-architecture.py" "$(SAM_CONFIG_ENV)")
CONFIGURATION ?= Release
# Extra `dotnet publish` arguments, e.g. the sysroot/linker properties for an arm64 cross build (docs/deploy.md).
PUBLISH_FLAGS ?=
FUNCTION_PROJECT := src/Function/Function.csproj

ifneq ($(filter $(ARCH),x86_64 amd64 x64),)
  RID := linux-x64
  BINARY_ARCHITECTURE := x86_64
  ELF_MACHINE := 3e00
else ifneq ($(filter $(ARCH),aarch64 arm64),)
  RID := linux-arm64
  BINARY_ARCHITECTURE := arm64
  ELF_MACHINE := b700
else
  $(error Unsupported ARCH '$(ARCH)': use x86_64 or arm64)
endif

ifeq ($(strip $(ARCHITECTURE)),)
  $(error Could not read the function's Architecture (scripts/function-architecture.py needs python3); pass ARCHITECTURE=arm64 or ARCHITECTURE=x86_64)
endif
ifneq ($(ARCHITECTURE),$(BINARY_ARCHITECTURE))
  $(error Architecture mismatch: the bootstrap would be $(BINARY_ARCHITECTURE) (ARCH=$(ARCH)) but the function is deployed as $(ARCHITECTURE) (ARCHITECTURE, from samconfig.toml [$(SAM_CONFIG_ENV)] or template.yaml). Lambda would fail every invocation with Runtime.InvalidEntrypoint. Either deploy Architecture=$(BINARY_ARCHITECTURE) (samconfig.toml parameter_overrides), or build for $(ARCHITECTURE): on an $(ARCHITECTURE) host, in the public.ecr.aws/sam/build-dotnet10 container, or cross-compiled with ARCH=$(ARCHITECTURE) PUBLISH_FLAGS=... (docs/deploy.md))
endif

# Published output stays inside the repo's ignored artifacts/ folder; only `bootstrap` goes to ARTIFACTS_DIR.
PUBLISH_DIR := $(CURDIR)/artifacts/publish/$(RID)
PUBLISH_COMMAND = dotnet publish $(FUNCTION_PROJECT) -c $(CONFIGURATION) -r $(RID) -p:PublishAot=true --self-contained true $(PUBLISH_FLAGS) -o "$(PUBLISH_DIR)"
# The publish command of the bootstrap in PUBLISH_DIR: a different command (RID, configuration, flags) publishes anew.
PUBLISH_ARGS_FILE := $(PUBLISH_DIR).args
# What the bootstrap is built from: a change to any of these publishes anew.
PUBLISH_INPUTS := $(shell find "$(CURDIR)/src" -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' -o -name '*.xml' \) -not -path '*/bin/*' -not -path '*/obj/*' 2>/dev/null) \
  $(wildcard $(CURDIR)/Directory.Build.props $(CURDIR)/Directory.Packages.props $(CURDIR)/global.json $(CURDIR)/.editorconfig)
# SAM builds every makefile function on its own (its build graph never merges BuildMethod makefile functions), in
# parallel with `parallel = true`: three `make build-...` at once, one bootstrap. So the publish runs under the
# repository's publish lock (the test harness's BootstrapPublisher takes the same flock, and publishes of src/Function
# share its obj/ folder), and inside the lock make publishes only when the bootstrap is older than its inputs or was
# published with other arguments: the first of the three publishes, the other two wait and copy its bootstrap.
# flock(1) is in util-linux; without it the publish runs unlocked.
PUBLISH_LOCK := $(if $(shell command -v flock 2>/dev/null),flock "$(CURDIR)/artifacts/.publish.lock",)

.PHONY: build-MskToClickHouseFunction build-AuditFunction build-ReplayFunction publish-function publish-if-stale

# The audit and replay functions run the same bootstrap (SINK_MODE picks the handler); SAM builds each function's target.
build-MskToClickHouseFunction build-AuditFunction build-ReplayFunction: publish-function
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@machine="$$(od -An -tx1 -j18 -N2 "$(PUBLISH_DIR)/bootstrap" | tr -d ' \n')"; \
	  test "$$machine" = "$(ELF_MACHINE)" || { echo "bootstrap ELF machine $$machine is not $(ARCHITECTURE) ($(ELF_MACHINE)): check PUBLISH_FLAGS" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp "$(PUBLISH_DIR)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
	chmod 755 "$(ARTIFACTS_DIR)/bootstrap"

# Under the lock: record the publish command (rewritten only when it changed), then let a nested make compare times.
# NESTED_MAKE, not $(MAKE) in the line: make would run such a line even under `make -n`.
NESTED_MAKE = $(MAKE)
publish-function:
	@mkdir -p "$(CURDIR)/artifacts/publish"
	$(PUBLISH_LOCK) sh -c 'printf "%s\n" "$$1" | cmp -s - "$$2" || printf "%s\n" "$$1" > "$$2"; exec "$$3" --no-print-directory -f "$$4" publish-if-stale ARCHITECTURE="$$5"' \
	  publish '$(PUBLISH_COMMAND)' "$(PUBLISH_ARGS_FILE)" "$(NESTED_MAKE)" "$(abspath $(firstword $(MAKEFILE_LIST)))" "$(ARCHITECTURE)"

publish-if-stale: $(PUBLISH_DIR)/bootstrap

$(PUBLISH_DIR)/bootstrap: $(PUBLISH_INPUTS) $(PUBLISH_ARGS_FILE)
	rm -rf "$(PUBLISH_DIR)"
	$(PUBLISH_COMMAND)
	touch "$@"
