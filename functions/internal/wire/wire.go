// Package wire holds what every rootguard function starts from: the ROOTGUARD_* configuration
// read once, the JSON logger, the metrics recorder and the AWS SDK configuration, all built at
// cold start without any network call. Its sub-packages build each kind of handler, so that a
// function links only the AWS clients it uses: evaluator (root-activity, scp-guard, onboarding,
// audit) and notifier.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/rootguard/rootguard/shared/config"
	"github.com/rootguard/rootguard/shared/metric"
)

// Base is the configuration, logging and AWS setup of one function.
type Base struct {
	Config  config.Config
	Log     *slog.Logger
	Metrics *metric.Recorder
	AWS     aws.Config
}

// Load reads and validates the function's configuration and loads the AWS SDK configuration
// (with every call counted in the metrics).
func Load(ctx context.Context, function string) (*Base, error) {
	cfg, err := config.Load(function, os.Getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", function)
	m := metric.New(os.Stdout, function)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: load the AWS configuration: %w", function, err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("%s: no AWS region: set AWS_REGION", function)
	}
	awsCfg.APIOptions = append(awsCfg.APIOptions, m.AWSCallCounter())
	return &Base{Config: cfg, Log: log, Metrics: m, AWS: awsCfg}, nil
}

// Exit reports a start-up failure on standard error and ends the process: Lambda shows the
// message as the init error.
func Exit(err error) {
	fmt.Fprintln(os.Stderr, "rootguard:", err)
	os.Exit(1)
}
