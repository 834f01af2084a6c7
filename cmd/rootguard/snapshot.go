package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/function"
)

// loadClients builds the organization clients from the default configuration chain
// (environment, shared files and profiles, SSO, instance roles), honouring
// AWS_ENDPOINT_URL_<SERVICE>; region, when set, is STS's region.
func loadClients(ctx context.Context, region string) (awsorg.Clients, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awsorg.Clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return awsorg.NewClients(cfg)
}

// cmdSnapshot writes the live organization in the snapshot format, through the same code the
// Lambdas read facts with. AWS credentials and region come from the usual AWS configuration
// chain; AWS_ENDPOINT_URL_* overrides are honoured.
func cmdSnapshot(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet("snapshot", e)
	out := fs.String("out", "-", "write the snapshot to `FILE` (- is standard output)")
	region := fs.String("region", "", "AWS `REGION` for STS (default: the AWS configuration's)")
	mode := fs.String("root-credentials-mode", function.ModeAuditRole, "how root credential state is read: audit-role or assume-root [ROOTGUARD_ROOT_CREDENTIALS_MODE]")
	role := fs.String("audit-role-name", function.DefaultAuditRoleName, "the read-only audit `ROLE` in every account (audit-role mode) [ROOTGUARD_AUDIT_ROLE_NAME]")
	table := fs.String("state-table", "", "rootguard's DynamoDB state `TABLE`: adds each account's recordedOwnership (read only; without it recordedOwnership is left out, unknown) [ROOTGUARD_DEDUP_TABLE]")
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if fs.NArg() > 0 {
		return exitUsage, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		return exitUsage, err
	}
	cfg := awsorg.Config{Mode: awsorg.Mode(*mode), RoleName: *role,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := cfg.Validate(); err != nil {
		return exitUsage, err
	}
	clients, err := loadClients(ctx, *region)
	if err != nil {
		return exitUsage, err
	}
	doc, err := awsorg.Snapshot(ctx, awsorg.New(cfg, clients))
	if err != nil {
		return exitUsage, err
	}
	if *table != "" {
		if err := fillRecordedOwnership(ctx, *region, *table, &doc); err != nil {
			return exitUsage, err
		}
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return exitUsage, err
	}
	data = append(data, '\n')
	if *out == "-" {
		_, err = e.stdout.Write(data)
		return exitOK, err
	}
	// Write beside the target and rename, so a failed run never leaves half a snapshot.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".snapshot-*")
	if err != nil {
		return exitUsage, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return exitUsage, err
	}
	if err := tmp.Close(); err != nil {
		return exitUsage, err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return exitUsage, err
	}
	fmt.Fprintf(e.stderr, "rootguard snapshot: %d accounts, %d OUs, %d policies written to %s\n",
		len(doc.Accounts), len(doc.OrganizationalUnits), len(doc.Policies), *out)
	return exitOK, nil
}
