# rootguard: make demo (replay the bundled events against the bundled organization) and
# make test (every test). Everything the tests need is installed by these targets, pinned.
SHELL := /bin/bash
GO ?= go
GOFLAGS ?=
export GOFLAGS

TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

# Pinned test tools (installed into .tools/ by `make tools`).
RIE_VERSION   := v0.0.0-20261030222936-bef5c4ba774d
GOAWS_VERSION := v0.4.5

DEMO_FLAGS := --org events/org.json --stax-domains stax.example \
	--trusted-principals arn:aws:iam::111111111111:role/stax-guardrail-automation \
	--exception-approvers arn:aws:iam::111111111111:role/stax-exception-approver

.PHONY: demo test unit build bench fuzz fuzz-smoke tools clean report browser

# Fuzz targets as package:Target, every func Fuzz of the repository (TestFuzzTargets fails when one
# is missing); `make fuzz-smoke` runs each briefly, `make fuzz` for longer.
FUZZ_TARGETS := ./internal/aws/awsorg:FuzzParseRootARN ./internal/cloudtrail:FuzzDecode \
	./internal/cloudtrail:FuzzStream ./internal/policy:FuzzParse ./internal/policy:FuzzCompare \
	./internal/render:FuzzEscape ./internal/render:FuzzShapeChecks ./internal/rule:FuzzGuardRules
FUZZTIME ?= 5m

## demo: replay every sample event against the bundled organization, then audit the result.
demo:
	@$(GO) run ./cmd/rootguard replay $(DEMO_FLAGS) --audit events/

## report: the HTML posture report of the samples (events/ against events/org.json) into report.html.
report:
	@$(GO) run ./cmd/rootguard report $(DEMO_FLAGS) --out report.html events/

## test: every test (unit, golden, catalogue, fuzz smoke, end-to-end, infrastructure).
test: tools browser
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m -skip '^TestFaultInjection$$' ./...
	@echo "fault injection (real binaries under the Lambda emulator, faults on every service):"
	@set -o pipefail; $(GO) test -count=1 -timeout 10m -v -run '^TestFaultInjection$$' ./functions/ \
		| grep -E '^(fault injection|--- |ok|FAIL|panic)|_test.go:[0-9]+:'
	$(MAKE) --no-print-directory fuzz-smoke

## browser: Chromium for the report's browser test: found, or installed with apt-get (Debian package
## chromium) where apt-get exists; without one the browser test is skipped and says why.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
browser:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || [ -n "$$ROOTGUARD_CHROMIUM" ]; then \
		:; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "make browser: installing Chromium (apt-get install chromium) for the report's browser test"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			|| echo "make browser: Chromium could not be installed: the report's browser test will be skipped"; \
	else \
		echo "make browser: no Chromium and no apt-get: the report's browser test will be skipped"; \
	fi

## unit: the fast tests: every package but functions/ (the end-to-end tests, which need the Lambda
## emulator, goaws and dynalite of `make tools`) and infra/ (CDK synthesis). The DynamoDB tests among
## them (dynamostore, the notifier's ledger, the command line's snapshot) need dynalite, installed
## first (npm ci); the report's browser test runs only where Chromium is found (make browser).
unit: node_modules/.bin/dynalite
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -e '/infra$$' -e '/functions$$')

## build: the rootguard CLI into bin/.
build:
	$(GO) build -trimpath -o bin/rootguard ./cmd/rootguard

## bench: throughput and memory benchmarks with the jq baseline in the same run.
bench:
	$(GO) test ./internal/replay -run '^$$' -bench 'Replay|JQ' -cpu 1 -benchtime 3x -benchmem

## fuzz-smoke: each fuzz target for 20 s from its seeds (the events/ samples among them).
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20s

## fuzz: each fuzz target for FUZZTIME (default 5m).
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		GO=$(GO) .ci/fuzz-one $$pkg $$name $(FUZZTIME); \
	done

## tools: pinned test tools into .tools/bin, and the npm packages of package-lock.json (dynalite, cdk) into node_modules/.
tools: $(TOOLS)/aws-lambda-rie $(TOOLS)/goaws node_modules/.bin/dynalite

# node_modules/go.mod makes Go treat node_modules as another module (see infra/make.mk).
node_modules/.bin/dynalite:
	npm ci --no-audit --no-fund
	printf 'module rootguard.invalid/node_modules\n' > node_modules/go.mod

$(TOOLS)/aws-lambda-rie:
	GOBIN=$(TOOLS) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(TOOLS)/goaws:
	GOBIN=$(TOOLS) $(GO) install github.com/Admiral-Piett/goaws/app/cmd@$(GOAWS_VERSION)
	mv $(TOOLS)/cmd $(TOOLS)/goaws

clean:
	rm -rf bin build cdk.out .tools

include functions/make.mk
include infra/make.mk
