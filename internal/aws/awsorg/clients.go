package awsorg

import (
	"errors"
	"net/http"
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
// IAM use us-east-1; STS and CloudTrail use cfg's region: AssumeRoot needs a regional endpoint.
// Nothing is called: the clients make no request until a read needs one.
func NewClients(cfg aws.Config) (Clients, error) {
	if cfg.Region == "" {
		return Clients{}, errors.New("build the AWS clients: no region (set AWS_REGION)")
	}
	return Clients{
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) {
			o.Region, o.Retryer = OrganizationsRegion, NewRetryer()
		}),
		STS:    sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = NewRetryer() }),
		IAM:    iam.NewFromConfig(cfg, func(o *iam.Options) { o.Region, o.Retryer = OrganizationsRegion, NewRetryer() }),
		Trails: NewTrailsClient(cfg),
	}, nil
}

// errNoClient answers a read through a client Clients lacks.
var errNoClient = errors.New("no AWS client configured for this read")

// noClient is the HTTP client of the stand-ins for the clients Clients lacks: every request
// fails with errNoClient before it leaves the process, so a function wired without, say, STS
// fails closed instead of panicking on a nil client.
type noClient struct{}

// Do fails.
func (noClient) Do(*http.Request) (*http.Response, error) { return nil, errNoClient }

// complete gives the clients c lacks (Trails aside) stand-ins whose every call fails with
// errNoClient, unsigned and not retried.
func (c Clients) complete() Clients {
	if c.Organizations == nil {
		c.Organizations = organizations.New(organizations.Options{Region: OrganizationsRegion, HTTPClient: noClient{}, Retryer: aws.NopRetryer{}})
	}
	if c.STS == nil {
		c.STS = sts.New(sts.Options{Region: OrganizationsRegion, HTTPClient: noClient{}, Retryer: aws.NopRetryer{}})
	}
	if c.IAM == nil {
		c.IAM = iam.New(iam.Options{Region: OrganizationsRegion, HTTPClient: noClient{}, Retryer: aws.NopRetryer{}})
	}
	return c
}
