package infra

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/jsii-runtime-go"
)

// DefaultRegions are the commercial AWS regions enabled by default in every account (regions
// launched before March 2019; later ones are opt-in). rootguard forwards from all of them unless
// forwardRegions narrows the list: root API calls are recorded in the region where they are made,
// and sts:AssumeRoot exists only on regional endpoints.
var DefaultRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "sa-east-1",
	"eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
}

// OptInRegions are the commercial regions an account must enable before use. rootguard forwards
// from those named in optInRegions (enable them in every account first: a StackSet instance in a
// region the account has not enabled fails, within the StackSet's failure tolerance).
var OptInRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1",
	"me-south-1", "mx-central-1",
}

// CtxOptInRegions is the context key of the opt-in regions forwarded from besides ForwardRegions.
const CtxOptInRegions = "optInRegions"

// resolveRegions sets c.ForwardRegions: the configured forwardRegions (default DefaultRegions)
// plus optInRegions, us-east-1 first (always included), the rest sorted, without duplicates. An
// opt-in region must be one AWS lists as opt-in (OptInRegions): a typo would otherwise deploy a
// forwarder nowhere.
func (r *reader) resolveRegions(c *Config) {
	optIn := r.list(CtxOptInRegions, nil, lower, regionRE, "opt-in regions such as af-south-1")
	for _, region := range optIn {
		if !slices.Contains(OptInRegions, region) {
			r.fail(CtxOptInRegions, "%q is not an opt-in region (one of %v); regions enabled by default are forwarded already", region, OptInRegions)
		}
	}
	c.OptInRegions = optIn
	others := slices.Concat(c.ForwardRegions, optIn)
	others = slices.DeleteFunc(others, func(s string) bool { return s == GlobalRegion })
	slices.Sort(others)
	c.ForwardRegions = append([]string{GlobalRegion}, slices.Compact(others)...)
}

// StackSet operation preferences (see stackSetPreferences).
const (
	StackSetRegionConcurrency = "PARALLEL"
	StackSetConcurrencyMode   = "SOFT_FAILURE_TOLERANCE"
	StackSetMaxConcurrent     = 50
	StackSetFailureTolerance  = 100
)

// stackSetPreferences are the member StackSet's operation preferences, chosen so that a region a
// Stax region-deny SCP blocks (every instance there fails with AccessDenied) does not fail the
// deployment: regions run in parallel (one region's failures never hold back another), and the
// failure tolerance is 100 percent, so CloudFormation completes the operation in every region and
// the StackSet resource succeeds; the blocked instances stay listed with their reason
// (docs/deploy.md). SOFT_FAILURE_TOLERANCE keeps half the accounts of a region deploying at once
// whatever the tolerance.
func stackSetPreferences() *awscloudformation.CfnStackSet_OperationPreferencesProperty {
	return &awscloudformation.CfnStackSet_OperationPreferencesProperty{
		RegionConcurrencyType:      jsii.String(StackSetRegionConcurrency),
		ConcurrencyMode:            jsii.String(StackSetConcurrencyMode),
		MaxConcurrentPercentage:    jsii.Number(StackSetMaxConcurrent),
		FailureTolerancePercentage: jsii.Number(StackSetFailureTolerance),
	}
}
