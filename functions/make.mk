# rootguard Lambda functions (included by the top-level Makefile).
#
#   make bootstraps        every function for the host architecture: build/host/<fn>/bootstrap
#   make bootstraps-arm64  every function for AWS (provided.al2023, arm64): build/arm64/<fn>/bootstrap
#   make bench-functions   cold start, size, warm latency and memory figures of the functions

FUNCTIONS := root-activity scp-guard onboarding audit notifier
FUNCTION_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTION_SOURCES := $(shell find functions shared -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

.PHONY: bootstraps bootstraps-arm64 bench-functions

bootstraps: $(foreach f,$(FUNCTIONS),build/host/$(f)/bootstrap)

bootstraps-arm64: $(foreach f,$(FUNCTIONS),build/arm64/$(f)/bootstrap)

build/host/%/bootstrap: $(FUNCTION_SOURCES)
	@mkdir -p $(@D)
	GOOS=linux CGO_ENABLED=0 $(GO) build $(FUNCTION_GOFLAGS) -o $@ ./functions/$*

build/arm64/%/bootstrap: $(FUNCTION_SOURCES)
	@mkdir -p $(@D)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(FUNCTION_GOFLAGS) -o $@ ./functions/$*

bench-functions:
	$(GO) test ./functions/internal/perf -run '^$$' -bench . -benchtime 20x -count 1
	$(GO) test ./shared/handler ./shared/notify -run '^$$' -bench . -benchmem
