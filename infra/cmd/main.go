// Command cmd is rootguard's CDK app (cdk.json runs it): it reads the context, validates it,
// and synthesizes the central stack, the management-account forwarders, and the StackSet of the
// member-account forwarder.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/infra"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rootguard infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := infra.ConfigFromApp(app)
	if err != nil {
		return err
	}
	if _, err := infra.Build(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
