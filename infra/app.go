package infra

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rootguard/rootguard/internal/function"
)

// Stacks are the application's stacks.
type Stacks struct {
	// Central is the central detection stack (central account, home region).
	Central *Central
	// Management are the management-account forwarders, us-east-1 first.
	Management []awscdk.Stack
	// MemberForwarder is the member template's stack (in its own stage; not deployed directly).
	MemberForwarder awscdk.Stack
	// MemberTemplateBody is the member template, as the StackSet deploys it.
	MemberTemplateBody string
	// MemberStackSet holds the StackSet (management account, us-east-1).
	MemberStackSet awscdk.Stack
}

// ConfigFromApp reads the configuration from an app's context.
func ConfigFromApp(app awscdk.App) (Config, error) {
	return ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
}

// Build adds every rootguard stack to the app, with cdk-nag's AwsSolutions checks on all of them.
// The functions' bootstrap binaries must exist under cfg.AssetDir.
func Build(app awscdk.App, cfg Config) (*Stacks, error) {
	for _, fn := range function.Names() {
		bootstrap := filepath.Join(cfg.AssetDir, fn, "bootstrap")
		if _, err := os.Stat(bootstrap); err != nil {
			return nil, fmt.Errorf("function %s: %w (run `make bootstraps-arm64` first)", fn, err)
		}
	}
	nag := func() awscdk.IAspect {
		return cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)})
	}
	if _, err := GuardPolicyJSON(cfg); err != nil {
		return nil, err
	}
	s := &Stacks{}
	s.Central = NewCentralStack(app, cfg)
	s.Management = NewManagementStacks(app, cfg)
	member, body, err := MemberTemplate(app, cfg, nag())
	if err != nil {
		return nil, err
	}
	s.MemberForwarder, s.MemberTemplateBody = member, body
	s.MemberStackSet = NewMemberStackSetStack(app, cfg, body)
	awscdk.Aspects_Of(app).Add(nag(), nil)
	return s, nil
}
