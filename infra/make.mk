# rootguard infrastructure targets; the top Makefile includes this file (`include infra/make.mk`).
#
#   make synth                      build the arm64 bootstraps, synthesize every template into cdk.out/
#   make diff                       compare with what is deployed
#   make deploy                     deploy (STACKS= to choose, CDK_ARGS= for more cdk options)
#   make destroy                    remove (see docs/deploy.md for the order and what stays)
#   make bootstraps-arm64           only build build/arm64/<function>/bootstrap
#
# The AWS CDK command line is the one pinned in package.json, installed locally by `npm ci`.

INFRA_FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
INFRA_BOOTSTRAPS := $(foreach f,$(INFRA_FUNCTIONS),build/arm64/$(f)/bootstrap)
CDK := node_modules/.bin/cdk
# Deployable stacks (the member forwarder's stack is synthesized for the StackSet, never deployed).
STACKS ?= RootGuard-Central 'RootGuard-Management-*' RootGuard-MemberStackSet
CDK_ARGS ?=

.PHONY: synth diff deploy destroy bootstraps-arm64

bootstraps-arm64: $(INFRA_BOOTSTRAPS)

# Always rebuilt: go build is incremental, and the sources of a function span internal/.
.PHONY: $(INFRA_BOOTSTRAPS)
$(INFRA_BOOTSTRAPS): build/arm64/%/bootstrap:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $@ ./functions/$*

# node_modules/go.mod makes Go treat node_modules as another module, so `go ... ./...` skips the
# Go files the aws-cdk package ships (its init templates).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	printf 'module rootguard.invalid/node_modules\n' > node_modules/go.mod

synth: bootstraps-arm64 node_modules/.package-lock.json
	$(CDK) synth --quiet $(CDK_ARGS)
	@echo "templates in cdk.out/: RootGuard-Central, RootGuard-Management-<region>, RootGuard-MemberStackSet, and the StackSet's member template in cdk.out/assembly-RootGuard-Member/"

diff: bootstraps-arm64 node_modules/.package-lock.json
	$(CDK) diff $(STACKS) $(CDK_ARGS)

deploy: bootstraps-arm64 node_modules/.package-lock.json
	$(CDK) deploy $(STACKS) --require-approval broadening $(CDK_ARGS)

destroy: bootstraps-arm64 node_modules/.package-lock.json
	$(CDK) destroy $(STACKS) $(CDK_ARGS)
