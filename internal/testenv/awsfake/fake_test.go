package awsfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/org"
)

// sdk holds real SDK clients pointed at a fake.
type sdk struct {
	orgs *organizations.Client
	iam  *iam.Client
	sts  *sts.Client
	eb   *eventbridge.Client
	sh   *securityhub.Client
	cfg  aws.Config
}

// fastRetryer is the SDK's standard retryer with a tiny backoff, so throttling tests are quick.
func fastRetryer(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
}

func newSDK(s *Server, attempts int, creds aws.CredentialsProvider) sdk {
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider(CentralAccessKeyID, "secret", "")
	}
	cfg := aws.Config{Region: "eu-west-1", Credentials: creds, Retryer: fastRetryer(attempts)}
	return sdk{
		cfg: cfg,
		orgs: organizations.NewFromConfig(cfg, func(o *organizations.Options) {
			o.BaseEndpoint = aws.String(s.URL(Organizations))
			o.Region = "us-east-1"
		}),
		iam: iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL(IAM)); o.Region = "us-east-1" }),
		sts: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL(STS)) }),
		eb:  eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(s.URL(EventBridge)) }),
		sh:  securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.BaseEndpoint = aws.String(s.URL(SecurityHub)) }),
	}
}

func start(t *testing.T, doc org.SnapshotDoc, opts Options) *Server {
	t.Helper()
	s, err := New(doc, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestNewRejectsInvalidSeed(t *testing.T) {
	doc := Sample()
	doc.Accounts[1].ParentID = "ou-ab12-missing1"
	if _, err := New(doc, Options{}); err == nil {
		t.Fatal("New accepted an account under an unknown OU")
	}
}

func TestOrganizationsListsArePaginated(t *testing.T) {
	doc := Sample()
	s := start(t, doc, Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()

	var accounts []string
	pages := 0
	for p := organizations.NewListAccountsPaginator(c.orgs, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccounts: %v", err)
		}
		pages++
		if len(out.Accounts) > 2 {
			t.Errorf("page of %d accounts, want at most the page size 2", len(out.Accounts))
		}
		for _, a := range out.Accounts {
			accounts = append(accounts, aws.ToString(a.Id))
		}
	}
	var want []string
	for _, a := range doc.Accounts {
		want = append(want, a.ID)
	}
	if diff := cmp.Diff(want, accounts); diff != "" {
		t.Errorf("ListAccounts (-want +got):\n%s", diff)
	}
	if wantPages := (len(want) + 1) / 2; pages != wantPages {
		t.Errorf("ListAccounts took %d pages, want %d", pages, wantPages)
	}

	var targets []string
	for p := organizations.NewListTargetsForPolicyPaginator(c.orgs, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-FullAWSAccess")}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTargetsForPolicy: %v", err)
		}
		for _, tg := range out.Targets {
			targets = append(targets, aws.ToString(tg.TargetId))
		}
	}
	if diff := cmp.Diff(doc.Policies[0].Targets, targets); diff != "" {
		t.Errorf("ListTargetsForPolicy (-want +got):\n%s", diff)
	}

	tags := map[string]string{}
	for p := organizations.NewListTagsForResourcePaginator(c.orgs, &organizations.ListTagsForResourceInput{ResourceId: aws.String(doc.Organization.RootID)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		for _, tg := range out.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
	}
	if diff := cmp.Diff(doc.Organization.Tags, tags); diff != "" {
		t.Errorf("root tags (-want +got):\n%s", diff)
	}

	var policies []string
	for p := organizations.NewListPoliciesPaginator(c.orgs, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPolicies: %v", err)
		}
		for _, ps := range out.Policies {
			policies = append(policies, aws.ToString(ps.Id))
		}
	}
	if diff := cmp.Diff([]string{"p-FullAWSAccess", "p-staxprot1", "p-custdeny1"}, policies); diff != "" {
		t.Errorf("ListPolicies (-want +got):\n%s", diff)
	}

	var children []string
	for p := organizations.NewListChildrenPaginator(c.orgs, &organizations.ListChildrenInput{ParentId: aws.String("r-ab12"), ChildType: orgtypes.ChildTypeAccount}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListChildren: %v", err)
		}
		for _, ch := range out.Children {
			children = append(children, aws.ToString(ch.Id))
		}
	}
	if diff := cmp.Diff([]string{"111111111111", "555555555555"}, children); diff != "" {
		t.Errorf("ListChildren(root, ACCOUNT) (-want +got):\n%s", diff)
	}

	var ous []string
	for p := organizations.NewListOrganizationalUnitsForParentPaginator(c.orgs, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-ab12-prod0001")}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListOrganizationalUnitsForParent: %v", err)
		}
		for _, ou := range out.OrganizationalUnits {
			ous = append(ous, aws.ToString(ou.Id)+" "+aws.ToString(ou.Name)+" "+aws.ToString(ou.Path))
		}
	}
	if diff := cmp.Diff([]string{"ou-ab12-web00001 Web o-exampleorg1/r-ab12/ou-ab12-prod0001/ou-ab12-web00001/"}, ous); diff != "" {
		t.Errorf("ListOrganizationalUnitsForParent (-want +got):\n%s", diff)
	}
}

func TestOrganizationsDescribe(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()

	o, err := c.orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatalf("DescribeOrganization: %v", err)
	}
	if got := aws.ToString(o.Organization.MasterAccountId) + " " + aws.ToString(o.Organization.Id); got != "111111111111 o-exampleorg1" {
		t.Errorf("DescribeOrganization = %q", got)
	}

	a, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")})
	if err != nil {
		t.Fatalf("DescribeAccount: %v", err)
	}
	got := fmt.Sprintf("%s %s %s %v %v", aws.ToString(a.Account.Name), aws.ToString(a.Account.Email), a.Account.Status, a.Account.Paths, a.Account.JoinedTimestamp.UTC().Year())
	if want := "web web@stax.example ACTIVE [o-exampleorg1/r-ab12/ou-ab12-prod0001/ou-ab12-web00001/222222222222/] 2020"; got != want {
		t.Errorf("DescribeAccount = %q, want %q", got, want)
	}

	roots, err := c.orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatalf("ListRoots: %v", err)
	}
	r := roots.Roots[0]
	if got := fmt.Sprintf("%s %s %v", aws.ToString(r.Id), aws.ToString(r.Arn), r.PolicyTypes); got != "r-ab12 arn:aws:organizations::111111111111:root/o-exampleorg1/r-ab12 [{ENABLED SERVICE_CONTROL_POLICY {}}]" {
		t.Errorf("ListRoots = %q", got)
	}

	parents, err := c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("ou-ab12-web00001")})
	if err != nil {
		t.Fatalf("ListParents: %v", err)
	}
	if got := fmt.Sprintf("%s %s", aws.ToString(parents.Parents[0].Id), parents.Parents[0].Type); got != "ou-ab12-prod0001 ORGANIZATIONAL_UNIT" {
		t.Errorf("ListParents = %q", got)
	}

	ou, err := c.orgs.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-ab12-web00001")})
	if err != nil {
		t.Fatalf("DescribeOrganizationalUnit: %v", err)
	}
	if got := aws.ToString(ou.OrganizationalUnit.Name) + " " + aws.ToString(ou.OrganizationalUnit.Path); got != "Web o-exampleorg1/r-ab12/ou-ab12-prod0001/ou-ab12-web00001/" {
		t.Errorf("DescribeOrganizationalUnit = %q", got)
	}

	pol, err := c.orgs.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-staxprot1")})
	if err != nil {
		t.Fatalf("DescribePolicy: %v", err)
	}
	if got := aws.ToString(pol.Policy.PolicySummary.Name); got != "Stax-Protection" || !strings.Contains(aws.ToString(pol.Policy.Content), "arn:aws:iam::*:root") || pol.Policy.PolicySummary.Type != orgtypes.PolicyTypeServiceControlPolicy {
		t.Errorf("DescribePolicy = %q %q", got, aws.ToString(pol.Policy.Content))
	}

	attached, err := c.orgs.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("333333333333"), Filter: orgtypes.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatalf("ListPoliciesForTarget: %v", err)
	}
	var ids []string
	for _, p := range attached.Policies {
		ids = append(ids, fmt.Sprintf("%s/%s/%v", aws.ToString(p.Id), aws.ToString(p.Name), p.AwsManaged))
	}
	if diff := cmp.Diff([]string{"p-FullAWSAccess/FullAWSAccess/true", "p-custdeny1/Customer-Deny-Regions/false"}, ids); diff != "" {
		t.Errorf("ListPoliciesForTarget (-want +got):\n%s", diff)
	}
}

func TestOrganizationsErrors(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want func(error) bool
	}{
		{"DescribeAccount unknown", func() error {
			_, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, isErr[*orgtypes.AccountNotFoundException]},
		{"ListParents unknown", func() error {
			_, err := c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
			return err
		}, isErr[*orgtypes.ChildNotFoundException]},
		{"ListParents of the root", func() error {
			_, err := c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("r-ab12")})
			return err
		}, isErr[*orgtypes.ChildNotFoundException]},
		{"DescribePolicy unknown", func() error {
			_, err := c.orgs.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-missing1")})
			return err
		}, isErr[*orgtypes.PolicyNotFoundException]},
		{"ListTargetsForPolicy unknown", func() error {
			_, err := c.orgs.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-missing1")})
			return err
		}, isErr[*orgtypes.PolicyNotFoundException]},
		{"ListPoliciesForTarget unknown", func() error {
			_, err := c.orgs.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("ou-ab12-missing1"), Filter: orgtypes.PolicyTypeServiceControlPolicy})
			return err
		}, isErr[*orgtypes.TargetNotFoundException]},
		{"ListTagsForResource unknown", func() error {
			_, err := c.orgs.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("999999999999")})
			return err
		}, isErr[*orgtypes.TargetNotFoundException]},
		{"DescribeOrganizationalUnit unknown", func() error {
			_, err := c.orgs.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-ab12-missing1")})
			return err
		}, isErr[*orgtypes.OrganizationalUnitNotFoundException]},
		{"ListChildren unknown parent", func() error {
			_, err := c.orgs.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("ou-ab12-missing1"), ChildType: orgtypes.ChildTypeAccount})
			return err
		}, isErr[*orgtypes.ParentNotFoundException]},
		{"token of another request", func() error {
			out, err := c.orgs.ListAccounts(ctx, &organizations.ListAccountsInput{})
			if err != nil {
				return err
			}
			_, err = c.orgs.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy, NextToken: out.NextToken})
			return err
		}, isErr[*orgtypes.InvalidInputException]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !tt.want(err) {
				t.Fatalf("err = %v (%T), not the expected error type", err, err)
			}
		})
	}
}

// isErr reports whether err is (wraps) an error of type T.
func isErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	doc := Sample()
	tests := []struct {
		service string
		code    string
		call    func(c sdk) error
	}{
		{Organizations, "TooManyRequestsException", func(c sdk) error {
			_, err := c.orgs.DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
			return err
		}},
		{IAM, "Throttling", func(c sdk) error {
			_, err := c.iam.GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
			return err
		}},
		{STS, "Throttling", func(c sdk) error {
			_, err := c.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			return err
		}},
		{EventBridge, "ThrottlingException", func(c sdk) error {
			_, err := c.eb.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String("rootguard"), DetailType: aws.String("RootGuard Finding"), Detail: aws.String(`{"a":1}`)}}})
			return err
		}},
		{SecurityHub, "LimitExceededException", func(c sdk) error {
			_, err := c.sh.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding("f-1", "111111111111", "eu-west-1")}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			s := start(t, doc, Options{})
			// Every other call is throttled: one retry makes each call succeed.
			s.ThrottleEvery(tt.service, 2)
			c := newSDK(s, 3, nil)
			for i := range 3 {
				if err := tt.call(c); err != nil {
					t.Fatalf("call %d: %v (the SDK should retry the throttling)", i, err)
				}
			}
			if got := s.Calls(tt.service, ""); got != 5 {
				t.Errorf("%d requests for 3 calls with every 2nd throttled, want 5", got)
			}
			// Every call throttled: the SDK gives up after its attempts with the service's code.
			s.ResetCalls()
			s.ThrottleEvery(tt.service, 1)
			err := tt.call(c)
			if got := apiCode(err); got != tt.code {
				t.Fatalf("err = %v (code %q), want %s", err, got, tt.code)
			}
			if got := s.Calls(tt.service, ""); got != 3 {
				t.Errorf("%d attempts, want the retryer's 3", got)
			}
		})
	}
}

func TestThrottleFraction(t *testing.T) {
	s := start(t, Sample(), Options{Seed: 7})
	s.ThrottleFraction(Organizations, 0.5)
	c := newSDK(s, 10, nil)
	for i := range 20 {
		if _, err := c.orgs.ListRoots(context.Background(), &organizations.ListRootsInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	throttled := 0
	for _, call := range s.CallLog() {
		if call.Error == "TooManyRequestsException" {
			throttled++
		}
	}
	if total := s.Calls(Organizations, "ListRoots"); throttled == 0 || total != 20+throttled {
		t.Errorf("%d requests, %d throttled: want some throttled and every call eventually answered", total, throttled)
	}
}

func TestFailOperation(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()
	s.Fail(Organizations, "DescribeAccount", APIError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: "nope"}, 1)
	_, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")})
	var denied *orgtypes.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Fatalf("first call: err = %v, want AccessDeniedException", err)
	}
	if _, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")}); err != nil {
		t.Fatalf("second call: %v (the fault was for one call)", err)
	}
	s.Fail(IAM, "GetAccountSummary", APIError{Status: http.StatusInternalServerError, Code: "ServiceFailure", Message: "down"}, -1)
	if _, err := c.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); apiCode(err) != "ServiceFailure" {
		t.Fatalf("err = %v, want ServiceFailure", err)
	}
	if got := s.Calls(IAM, "GetAccountSummary"); got != 3 {
		t.Errorf("%d attempts at a 500, want 3 (retried)", got)
	}
	s.ClearFaults()
	if _, err := c.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestSTSAndIAM(t *testing.T) {
	s := start(t, Sample(), Options{RoleName: "rootguard-audit"})
	central := newSDK(s, 3, nil)
	ctx := context.Background()

	id, err := central.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(id.Account); got != "111111111111" {
		t.Errorf("caller account %s, want the management account", got)
	}

	summary := func(c sdk) map[string]int32 {
		t.Helper()
		out, err := c.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			t.Fatalf("GetAccountSummary: %v", err)
		}
		return out.SummaryMap
	}
	if got := summary(central); got["AccountMFAEnabled"] != 1 || got["AccountPasswordPresent"] != 1 || got["AccountAccessKeysPresent"] != 0 {
		t.Errorf("management summary %v", got)
	}

	t.Run("AssumeRole", func(t *testing.T) {
		out, err := central.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::555555555555:role/rootguard-audit"), RoleSessionName: aws.String("rootguard")})
		if err != nil {
			t.Fatalf("AssumeRole: %v", err)
		}
		if out.Credentials.Expiration.Before(time.Now()) {
			t.Errorf("credentials expire at %v", out.Credentials.Expiration)
		}
		member := newSDK(s, 3, credsOf(out.Credentials))
		got := summary(member)
		want := map[string]int32{"AccountMFAEnabled": 0, "AccountPasswordPresent": 1, "AccountAccessKeysPresent": 1, "Users": 0, "Roles": 3, "MFADevices": 0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("legacy summary (-want +got), its unknown signing-certificate state left out:\n%s", diff)
		}
		if _, err := member.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}); apiCode(err) != "ValidationError" {
			t.Errorf("GetLoginProfile without a user name from a role: err = %v, want ValidationError", err)
		}
	})
	t.Run("AssumeRole denied", func(t *testing.T) {
		for _, arn := range []string{"arn:aws:iam::444444444444:role/rootguard-audit", "arn:aws:iam::222222222222:role/other"} {
			_, err := central.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("rootguard")})
			if apiCode(err) != "AccessDenied" {
				t.Errorf("AssumeRole %s: err = %v, want AccessDenied", arn, err)
			}
		}
	})
	t.Run("AssumeRoot", func(t *testing.T) {
		task := &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")}
		out, err := central.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String("333333333333"), TaskPolicyArn: task, DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatalf("AssumeRoot: %v", err)
		}
		root := newSDK(s, 3, credsOf(out.Credentials))
		if _, err := root.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{}); err != nil {
			t.Errorf("GetLoginProfile: %v (the sandbox root has a password)", err)
		}
		mfa, err := root.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		if err != nil || len(mfa.MFADevices) != 0 {
			t.Errorf("ListMFADevices = %v, %v; want none", mfa, err)
		}
		web, err := central.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String("222222222222"), TaskPolicyArn: task})
		if err != nil {
			t.Fatalf("AssumeRoot: %v", err)
		}
		webRoot := newSDK(s, 3, credsOf(web.Credentials))
		_, err = webRoot.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
		var nse *iamtypes.NoSuchEntityException
		if !errors.As(err, &nse) {
			t.Errorf("GetLoginProfile without a password: err = %v, want NoSuchEntityException", err)
		}
		keys, err := webRoot.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil || len(keys.AccessKeyMetadata) != 0 {
			t.Errorf("ListAccessKeys = %v, %v", keys, err)
		}
		legacy, err := central.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String("555555555555"), TaskPolicyArn: task})
		if err != nil {
			t.Fatalf("AssumeRoot: %v", err)
		}
		legacyRoot := newSDK(s, 3, credsOf(legacy.Credentials))
		k, err := legacyRoot.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		if err != nil || len(k.AccessKeyMetadata) != 1 {
			t.Errorf("legacy ListAccessKeys = %v, %v; want one key", k, err)
		}
		if _, err := legacyRoot.iam.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}); apiCode(err) != "AccessDenied" {
			t.Errorf("legacy ListSigningCertificates: err = %v, want AccessDenied (state unknown)", err)
		}
		for _, target := range []string{"111111111111", "444444444444"} {
			_, err := central.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(target), TaskPolicyArn: task})
			if apiCode(err) != "AccessDenied" {
				t.Errorf("AssumeRoot %s: err = %v, want AccessDenied", target, err)
			}
		}
		_, err = central.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String("222222222222"), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}})
		if apiCode(err) != "ValidationError" {
			t.Errorf("AssumeRoot with a non-task policy: err = %v, want ValidationError", err)
		}
		var regions []string
		for _, c := range s.CallLog() {
			if c.Operation == "AssumeRoot" {
				regions = append(regions, c.Region)
			}
		}
		if len(regions) == 0 || regions[0] != "eu-west-1" {
			t.Errorf("AssumeRoot signed for %v, want the client's region eu-west-1", regions)
		}
	})
}

func credsOf(c *ststypes.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

func TestPutEvents(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()
	entry := func(detail string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{Source: aws.String("rootguard"), DetailType: aws.String("RootGuard Finding"), Detail: aws.String(detail), EventBusName: aws.String("rootguard"), Time: aws.Time(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	}
	out, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry(`{"n":1}`), entry(`not json`)}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" || aws.ToString(out.Entries[0].EventId) == "" {
		t.Errorf("PutEvents = %d failed, entries %+v", out.FailedEntryCount, out.Entries)
	}
	s.FailEntries(1)
	out, err = c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry(`{"n":2}`), entry(`{"n":3}`)}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].ErrorCode) != "InternalFailure" {
		t.Errorf("injected failure: %d failed, entries %+v", out.FailedEntryCount, out.Entries)
	}
	var details []string
	for _, e := range s.Events() {
		details = append(details, fmt.Sprintf("%s %s %s %s %s", e.EventBusName, e.Source, e.DetailType, e.Detail, e.Time.Format(time.RFC3339)))
	}
	want := []string{"rootguard rootguard RootGuard Finding {\"n\":1} 2026-01-02T03:04:05Z", "rootguard rootguard RootGuard Finding {\"n\":3} 2026-01-02T03:04:05Z"}
	if diff := cmp.Diff(want, details); diff != "" {
		t.Errorf("recorded events (-want +got):\n%s", diff)
	}
	var many []ebtypes.PutEventsRequestEntry
	for range MaxEventEntries + 1 {
		many = append(many, entry(`{}`))
	}
	if _, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: many}); apiCode(err) != "ValidationException" {
		t.Errorf("11 entries: err = %v, want ValidationException", err)
	}
}

func finding(id, account, region string) shtypes.AwsSecurityFinding {
	now := time.Now().UTC().Format(time.RFC3339)
	return shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(id),
		ProductArn:    aws.String(fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, account, account)),
		GeneratorId:   aws.String("rootguard/ROOT-SIGNIN"),
		AwsAccountId:  aws.String(account),
		Types:         []string{"Unusual Behaviors/User/Root Login"},
		CreatedAt:     aws.String(now),
		UpdatedAt:     aws.String(now),
		Severity:      &shtypes.Severity{Label: shtypes.SeverityLabelHigh},
		Title:         aws.String("Root sign-in"),
		Description:   aws.String("Root signed in."),
		Resources:     []shtypes.Resource{{Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:222222222222")}},
	}
}

func TestBatchImportFindings(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()
	const me, region = "111111111111", "eu-west-1"

	out, err := c.sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding("f-1", me, region), finding("f-2", me, region)}})
	if err != nil {
		t.Fatalf("BatchImportFindings: %v", err)
	}
	if aws.ToInt32(out.SuccessCount) != 2 || aws.ToInt32(out.FailedCount) != 0 {
		t.Errorf("success %d failed %d", aws.ToInt32(out.SuccessCount), aws.ToInt32(out.FailedCount))
	}

	s.FailFindings(1)
	bad := finding("f-4", me, region)
	bad.Title = aws.String(strings.Repeat("x", 257)) // the SDK checks presence, Security Hub the length
	out, err = c.sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding("f-3", me, region), bad, finding("f-5", me, region)}})
	if err != nil {
		t.Fatalf("BatchImportFindings: %v", err)
	}
	var failed []string
	for _, f := range out.FailedFindings {
		failed = append(failed, aws.ToString(f.Id)+" "+aws.ToString(f.ErrorCode))
	}
	if diff := cmp.Diff([]string{"f-3 InternalFailure", "f-4 InvalidInput"}, failed); diff != "" || aws.ToInt32(out.FailedCount) != 2 || aws.ToInt32(out.SuccessCount) != 1 {
		t.Errorf("partial failure: failed %d success %d (-want +got):\n%s", aws.ToInt32(out.FailedCount), aws.ToInt32(out.SuccessCount), diff)
	}

	var ids []string
	for _, raw := range s.Findings() {
		var f struct{ Id string }
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.Id)
	}
	if diff := cmp.Diff([]string{"f-1", "f-2", "f-5"}, ids); diff != "" {
		t.Errorf("recorded findings (-want +got):\n%s", diff)
	}

	_, err = c.sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding("f-6", "222222222222", region)}})
	if apiCode(err) != "AccessDeniedException" {
		t.Errorf("a member account's finding with its default product: err = %v, want AccessDeniedException", err)
	}
	other := finding("f-7", me, region)
	other.AwsAccountId = aws.String("222222222222")
	_, err = c.sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{other}})
	if apiCode(err) != "AccessDeniedException" {
		t.Errorf("AwsAccountId of another account: err = %v, want AccessDeniedException", err)
	}

	var many []shtypes.AwsSecurityFinding
	for i := range MaxFindings + 1 {
		many = append(many, finding(fmt.Sprintf("f-%d", i), me, region))
	}
	_, err = c.sh.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: many})
	var invalid *shtypes.InvalidInputException
	if !errors.As(err, &invalid) {
		t.Errorf("101 findings: err = %v, want InvalidInputException", err)
	}
}

func TestUpdateChangesAnswers(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 3, nil)
	ctx := context.Background()
	if err := s.Update(func(d *org.SnapshotDoc) { d.Accounts[1].ParentID = "r-ab12" }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	p, err := c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("222222222222")})
	if err != nil {
		t.Fatalf("ListParents: %v", err)
	}
	if got := aws.ToString(p.Parents[0].Id); got != "r-ab12" || p.Parents[0].Type != orgtypes.ParentTypeRoot {
		t.Errorf("after the move the parent is %s %s", got, p.Parents[0].Type)
	}
	if err := s.Update(func(d *org.SnapshotDoc) { d.Accounts[1].ParentID = "ou-ab12-nowhere1" }); err == nil {
		t.Error("Update accepted an invalid organization")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := start(t, Sample(), Options{})
	// Every third call in the whole server is throttled, so one client's retries can land on
	// throttled slots several times in a row while seven others interleave (with 5 attempts a CI
	// run failed so); with 12 that takes eleven throttled slots in a row.
	c := newSDK(s, 12, nil)
	s.ThrottleEvery(Organizations, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for p := organizations.NewListAccountsPaginator(c.orgs, &organizations.ListAccountsInput{}); p.HasMorePages(); {
				if _, err := p.NextPage(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counts := s.CallCounts()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"organizations.ListAccounts"}, keys); diff != "" || counts["organizations.ListAccounts"] < 8*3 {
		t.Errorf("counts %v: want ListAccounts only, at least 24 requests", counts)
	}
}

func TestEnv(t *testing.T) {
	s := start(t, Sample(), Options{})
	env := s.Env()
	for _, name := range Services {
		if v := env[envNames[name]]; v == "" || v != s.URL(name) {
			t.Errorf("%s = %q, want %s's URL", envNames[name], v, name)
		}
	}
	if env["AWS_ACCESS_KEY_ID"] != CentralAccessKeyID || env["AWS_REGION"] == "" {
		t.Errorf("env %v lacks credentials or region", env)
	}
}

func TestDelay(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := newSDK(s, 1, nil)
	s.Delay(Organizations, "DescribeAccount", 300*time.Millisecond, 1)

	// A caller that gives up before the answer gets none; the call is recorded as such.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed call: err = %v, want the caller's deadline", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Calls(Organizations, "DescribeAccount") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if log := s.CallLog(); len(log) != 1 || log[0].Error != CallerGone {
		t.Errorf("call log %+v, want one DescribeAccount recorded as %s", log, CallerGone)
	}
	// The delay was for one call.
	start := time.Now()
	if _, err := c.orgs.DescribeAccount(context.Background(), &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 300*time.Millisecond {
		t.Errorf("the second call took %s: the delay was for one call", d)
	}
	// A caller that waits gets the answer after the delay.
	s.Delay(Organizations, "ListRoots", 100*time.Millisecond, -1)
	if _, err := c.orgs.ListRoots(context.Background(), &organizations.ListRootsInput{}); err != nil {
		t.Errorf("a patient caller: %v", err)
	}
}

func TestFailFindingsFraction(t *testing.T) {
	s := start(t, Sample(), Options{Seed: 3})
	c := newSDK(s, 1, nil)
	s.FailFindingsFraction(0.5)
	failed := 0
	for i := range 40 {
		out, err := c.sh.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding(fmt.Sprintf("f-%d", i), "111111111111", "eu-west-1")}})
		if err != nil {
			t.Fatal(err)
		}
		failed += int(aws.ToInt32(out.FailedCount))
	}
	if failed == 0 || failed == 40 || len(s.Findings()) != 40-failed {
		t.Errorf("%d of 40 findings failed, %d recorded: want some failed, the others recorded", failed, len(s.Findings()))
	}
	s.ClearFaults()
	out, err := c.sh.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{finding("f-last", "111111111111", "eu-west-1")}})
	if err != nil || aws.ToInt32(out.FailedCount) != 0 {
		t.Errorf("after ClearFaults: %v, failed %d", err, aws.ToInt32(out.FailedCount))
	}
}
