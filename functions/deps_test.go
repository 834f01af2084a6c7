package functions_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestColdStartDependencies guards the cold start: no function links the AWS SDK's generated
// `schemas` packages (1 to 3.5 ms of package init each; the SDK service versions in go.mod are
// the last releases without them) or the default configuration chain (config, which pulls in
// the SSO, OIDC, sign-in and instance-metadata clients). A `go get -u` that brings them back
// fails here.
func TestColdStartDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "-tags", "lambda.norpc",
		"./root-activity", "./scp-guard", "./onboarding", "./audit", "./notifier", "./heartbeat").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/") &&
			(strings.HasSuffix(pkg, "/schemas") || pkg == "github.com/aws/aws-sdk-go-v2/config") {
			t.Errorf("a function links %s, which slows its cold start", pkg)
		}
	}
}

// TestNoRuleEngineInDelivery: the notifier and the heartbeat evaluate no rule, so they link
// neither the rule engine nor the policy analysis (their configuration is package function's
// table, checked by package config, which links neither).
func TestNoRuleEngineInDelivery(t *testing.T) {
	for _, fn := range []string{"./notifier", "./heartbeat"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "-tags", "lambda.norpc", fn).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", fn, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "github.com/rootguard/rootguard/internal/rule" || pkg == "github.com/rootguard/rootguard/internal/policy" {
				t.Errorf("%s links %s", fn, pkg)
			}
		}
	}
}
