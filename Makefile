# Build of the Lambda function for AWS SAM (template.yaml: Metadata BuildMethod: makefile).
#
# `sam build` runs `make build-MskToClickHouseFunction ARTIFACTS_DIR=<dir>`; by hand:
#   make build-MskToClickHouseFunction ARTIFACTS_DIR=/tmp/out            # host architecture
#   make build-MskToClickHouseFunction ARTIFACTS_DIR=/tmp/out ARCH=arm64 # needs an arm64 host or cross toolchain
#
# ARCH picks the Native AOT target: x86_64|amd64 -> linux-x64, aarch64|arm64 -> linux-arm64. It defaults to the
# build host (`uname -m`) because Native AOT links with the host's native toolchain; SAM does not pass the
# template's Architectures to make, so keep ARCH and the template's Architecture parameter in step
# (e.g. `ARCH=x86_64 sam build` with `--parameter-overrides Architecture=x86_64`). docs/deploy.md has the arm64 path.

ARCH ?= $(shell uname -m)
CONFIGURATION ?= Release
# Extra `dotnet publish` arguments, e.g. the sysroot/linker properties for an arm64 cross build (docs/deploy.md).
PUBLISH_FLAGS ?=
FUNCTION_PROJECT := src/Function/Function.csproj

ifneq ($(filter $(ARCH),x86_64 amd64 x64),)
  RID := linux-x64
else ifneq ($(filter $(ARCH),aarch64 arm64),)
  RID := linux-arm64
else
  $(error Unsupported ARCH '$(ARCH)': use x86_64 or arm64)
endif

# Published output stays inside the repo's ignored artifacts/ folder; only `bootstrap` goes to ARTIFACTS_DIR.
PUBLISH_DIR := $(CURDIR)/artifacts/publish/$(RID)

.PHONY: build-MskToClickHouseFunction publish-function

build-MskToClickHouseFunction: publish-function
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp "$(PUBLISH_DIR)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
	chmod 755 "$(ARTIFACTS_DIR)/bootstrap"

publish-function:
	rm -rf "$(PUBLISH_DIR)"
	dotnet publish $(FUNCTION_PROJECT) -c $(CONFIGURATION) -r $(RID) -p:PublishAot=true --self-contained true $(PUBLISH_FLAGS) -o "$(PUBLISH_DIR)"
