# rootguard Lambda functions (included by the top-level Makefile).
#
#   make bootstraps        every function for the host architecture: build/host/<fn>/bootstrap
#   (make bootstraps-arm64, for AWS, is in infra/make.mk)
#   make bench-functions   cold start, size, warm latency and memory figures of the functions

# Every folder of functions/ with a main.go is a function.
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
FUNCTION_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTION_SOURCES := $(shell find functions internal -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

.PHONY: bootstraps bench-functions

bootstraps: $(foreach f,$(FUNCTIONS),build/host/$(f)/bootstrap)

build/host/%/bootstrap: $(FUNCTION_SOURCES)
	@mkdir -p $(@D)
	GOOS=linux CGO_ENABLED=0 $(GO) build $(FUNCTION_GOFLAGS) -o $@ ./functions/$*

bench-functions:
	$(GO) test ./functions/internal/perf -run '^$$' -bench . -benchtime 20x -count 1
	$(GO) test ./functions/internal/handler ./functions/internal/notify -run '^$$' -bench . -benchmem
