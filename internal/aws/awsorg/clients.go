package awsorg

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Retry policy of the clients NewClients builds: the SDK's standard retryer (exponential
// backoff with full jitter; throttling errors such as TooManyRequestsException and Throttling
// back off from a 1 s base) with more attempts than the SDK's 3 and a short maximum backoff: the
// 7 retries of a throttled call wait random delays below 1, 2, 2, 2, 2, 2 and 2 s (at most 13 s,
// about 6.5 s on average), inside a Lambda's timeout, and never past the invocation's deadline
// (the SDK stops waiting when the context ends). The SDK's retry quota stays on: a long run of
// failures fails fast instead of piling up retries.
const (
	MaxAttempts = 8
	MaxBackoff  = 2 * time.Second
)

// NewRetryer returns the retryer described by MaxAttempts and MaxBackoff.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
	})
}

// OrganizationsRegion is the region of the Organizations endpoint (a global service hosted in
// us-east-1); IAM is signed for it too.
const OrganizationsRegion = "us-east-1"

// NewClients builds the SDK clients Facts reads through from cfg (a Lambda's internal/aws/awsenv
// configuration, or the command line's default chain), each with NewRetryer. Organizations and
// IAM use us-east-1; STS uses cfg's region: AssumeRoot needs a regional endpoint.
func NewClients(cfg aws.Config) (Clients, error) {
	if cfg.Region == "" {
		return Clients{}, errors.New("build the AWS clients: no region (set AWS_REGION)")
	}
	orgs := organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Region, o.Retryer = OrganizationsRegion, NewRetryer()
	})
	iamc := iam.NewFromConfig(cfg, func(o *iam.Options) { o.Region, o.Retryer = OrganizationsRegion, NewRetryer() })
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = NewRetryer() })
	return Clients{
		Organization: orgs,
		Accounts:     orgs,
		Policies:     orgs,
		Structure:    orgs,
		OUs:          orgs,
		STS:          stsc,
		Summary:      iamc,
		RootLogin:    iamc,
		RootKeys:     iamc,
		Features:     iamc,
		Trails:       NewTrailsClient(cfg),
	}, nil
}

// errNoClient answers a read through a client Clients lacks.
var errNoClient = errors.New("no AWS client configured for this read")

// missing stands in for a client Clients lacks: every call fails with errNoClient, so a
// function wired without, say, STS fails closed instead of panicking.
type missing struct{}

func (missing) ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	return nil, errNoClient
}

func (missing) DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	return nil, errNoClient
}

func (missing) ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	return nil, errNoClient
}

func (missing) DescribeAccount(context.Context, *organizations.DescribeAccountInput, ...func(*organizations.Options)) (*organizations.DescribeAccountOutput, error) {
	return nil, errNoClient
}

func (missing) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	return nil, errNoClient
}

func (missing) ListTagsForResource(context.Context, *organizations.ListTagsForResourceInput, ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error) {
	return nil, errNoClient
}

func (missing) DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error) {
	return nil, errNoClient
}

func (missing) ListPoliciesForTarget(context.Context, *organizations.ListPoliciesForTargetInput, ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error) {
	return nil, errNoClient
}

func (missing) ListPolicies(context.Context, *organizations.ListPoliciesInput, ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error) {
	return nil, errNoClient
}

func (missing) ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	return nil, errNoClient
}

func (missing) ListChildren(context.Context, *organizations.ListChildrenInput, ...func(*organizations.Options)) (*organizations.ListChildrenOutput, error) {
	return nil, errNoClient
}

func (missing) ListTargetsForPolicy(context.Context, *organizations.ListTargetsForPolicyInput, ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error) {
	return nil, errNoClient
}

func (missing) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return nil, errNoClient
}

func (missing) AssumeRoot(context.Context, *sts.AssumeRootInput, ...func(*sts.Options)) (*sts.AssumeRootOutput, error) {
	return nil, errNoClient
}

func (missing) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return nil, errNoClient
}

func (missing) GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	return nil, errNoClient
}

func (missing) GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	return nil, errNoClient
}

func (missing) ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	return nil, errNoClient
}

func (missing) ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return nil, errNoClient
}

func (missing) ListSigningCertificates(context.Context, *iam.ListSigningCertificatesInput, ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error) {
	return nil, errNoClient
}

// complete fills the clients c lacks with missing (OUs stays nil: its reads fall back to
// ListParents).
func (c Clients) complete() Clients {
	var m missing
	if c.Organization == nil {
		c.Organization = m
	}
	if c.Accounts == nil {
		c.Accounts = m
	}
	if c.Policies == nil {
		c.Policies = m
	}
	if c.Structure == nil {
		c.Structure = m
	}
	if c.STS == nil {
		c.STS = m
	}
	if c.Summary == nil {
		c.Summary = m
	}
	if c.RootLogin == nil {
		c.RootLogin = m
	}
	if c.RootKeys == nil {
		c.RootKeys = m
	}
	return c
}
