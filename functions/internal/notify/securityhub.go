package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/render"
)

// SecurityHubAPI imports findings (satisfied by *securityhub.Client).
type SecurityHubAPI interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

// SecurityHub imports findings into Security Hub with the calling account's default product:
// AwsAccountId is the calling account, and the affected account is named in Resources
// (render.ASFFBatches). At most render.ASFFMaxBatch findings go in one call; a FailedCount
// above zero is a retryable fault.ErrPartial naming the failed findings.
type SecurityHub struct {
	API    SecurityHubAPI
	Region string
	// Account returns the calling account (see CallerAccount).
	Account func(ctx context.Context) (string, error)
	// Now is the clock for findings whose event time is not RFC 3339 (default time.Now).
	Now func() time.Time
}

// Send implements Sender.
func (s *SecurityHub) Send(ctx context.Context, findings []finding.Finding) error {
	account, err := s.Account(ctx)
	if err != nil {
		return fmt.Errorf("find the calling account for Security Hub: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	bodies, err := render.ASFFBatches(findings, render.ASFFContext{Region: s.Region, CallingAccountID: account, Now: now().UTC()})
	if err != nil {
		return fmt.Errorf("%w: %w", fault.ErrPermanent, err)
	}
	for _, body := range bodies {
		var in struct {
			Findings []shtypes.AwsSecurityFinding
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return fmt.Errorf("%w: ASFF to SDK types: %w", fault.ErrPermanent, err)
		}
		out, err := s.API.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: in.Findings})
		if err != nil {
			return fmt.Errorf("import %d findings into Security Hub: %w", len(in.Findings), err)
		}
		if n := aws.ToInt32(out.FailedCount); n > 0 {
			var why []string
			for _, ff := range out.FailedFindings {
				why = append(why, fmt.Sprintf("%s: %s %s", aws.ToString(ff.Id), aws.ToString(ff.ErrorCode), aws.ToString(ff.ErrorMessage)))
			}
			return fmt.Errorf("import into Security Hub: %w: %d of %d findings failed (%s)", fault.ErrPartial, n, len(in.Findings), strings.Join(why, "; "))
		}
	}
	return nil
}

// STSAPI tells who the caller is (satisfied by *sts.Client).
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// CallerAccount finds the account the function runs in: STS GetCallerIdentity, asked once and
// remembered; when STS fails, the account of the invoked function's ARN in the Lambda context.
type CallerAccount struct {
	STS STSAPI

	mu      sync.Mutex
	account string
}

// Get returns the calling account.
func (c *CallerAccount) Get(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.account != "" {
		return c.account, nil
	}
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil && org.IsAccountID(aws.ToString(out.Account)) {
		c.account = aws.ToString(out.Account)
		return c.account, nil
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		// arn:aws:lambda:region:account:function:name
		if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) > 4 && org.IsAccountID(parts[4]) {
			return parts[4], nil
		}
	}
	if err == nil {
		err = fmt.Errorf("GetCallerIdentity answered account %q", aws.ToString(out.Account))
	}
	return "", fmt.Errorf("get caller identity: %w", err)
}
