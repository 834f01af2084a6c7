package main

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/aws/dynamostore"
	"github.com/rootguard/rootguard/internal/org"
)

// fillRecordedOwnership adds each account's recorded ownership from the state table (the
// Lambdas' ROOTGUARD_DEDUP_TABLE, owner#<account id> items) to a snapshot document, reading only.
func fillRecordedOwnership(ctx context.Context, region, table string, doc *org.SnapshotDoc) error {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	st, ok := dynamostore.New(cfg, table).(awsorg.OwnerStore)
	if !ok {
		return fmt.Errorf("state table %s: no recorded ownership", table)
	}
	if err := awsorg.FillRecordedOwnership(ctx, st, doc); err != nil {
		return fmt.Errorf("recorded ownership: %w", err)
	}
	return nil
}
