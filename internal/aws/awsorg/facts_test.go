package awsorg

import (
	"errors"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rootguard/rootguard/internal/aws/awsenv"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

var modes = []Mode{ModeAuditRole, ModeAssumeRoot}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// TestFactsAgreeWithSnapshot reads every fact of the sample organization live, through the real
// SDK clients and the fake, and compares it with the snapshot implementation of the same seed.
func TestFactsAgreeWithSnapshot(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := setup(t, awsfake.Sample(), Config{Mode: mode})
			v := e.view(t)
			doc := e.ref.Doc()

			o, err := v.Organization()
			if err != nil {
				t.Fatalf("Organization: %v", err)
			}
			want := doc.Organization
			want.Tags = nil
			if diff := cmp.Diff(want, o); diff != "" {
				t.Errorf("Organization (-want +got):\n%s", diff)
			}

			nodes := []string{doc.Organization.RootID}
			for _, ou := range doc.OrganizationalUnits {
				nodes = append(nodes, ou.ID)
			}
			for _, a := range doc.Accounts {
				nodes = append(nodes, a.ID)
			}
			for _, id := range nodes {
				t.Run(id, func(t *testing.T) {
					if org.TargetKind(id) != "root" {
						wantP, _ := e.ref.Parents(id)
						gotP, err := v.Parents(id)
						if err != nil || !slices.Equal(wantP, gotP) {
							t.Errorf("Parents = %v, %v; want %v", gotP, err, wantP)
						}
					}
					wantIDs, _ := e.ref.PoliciesFor(id)
					gotIDs, err := v.PoliciesFor(id)
					if err != nil || !slices.Equal(sorted(wantIDs), sorted(gotIDs)) {
						t.Errorf("PoliciesFor = %v, %v; want %v", gotIDs, err, wantIDs)
					}
					wantTags, _ := e.ref.Tags(id)
					gotTags, err := v.Tags(id)
					if diff := cmp.Diff(wantTags, gotTags, cmpopts.EquateEmpty()); err != nil || diff != "" {
						t.Errorf("Tags: %v (-want +got):\n%s", err, diff)
					}
					if org.TargetKind(id) != "account" {
						return
					}
					wantA, _ := e.ref.Account(id)
					wantA.Root, wantA.Tags = nil, nil
					gotA, err := v.Account(id)
					if diff := cmp.Diff(wantA, gotA); err != nil || diff != "" {
						t.Errorf("Account: %v (-want +got):\n%s", err, diff)
					}
					wantRoot, _ := e.ref.RootCredentials(id)
					gotRoot, err := v.RootCredentials(id)
					if wantRoot == nil {
						if !errors.Is(err, ErrUnreadable) {
							t.Errorf("RootCredentials = %v, %v; want ErrUnreadable", gotRoot, err)
						}
					} else if diff := cmp.Diff(wantRoot, gotRoot); err != nil || diff != "" {
						t.Errorf("RootCredentials: %v (-want +got):\n%s", err, diff)
					}
				})
			}

			fresh := New(Config{Mode: mode, RoleName: auditRole}, testClients(e.fake, 3)).For(t.Context())
			for _, want := range doc.Policies {
				got, err := fresh.Policy(want.ID)
				want.Targets, want.Tags = nil, nil
				if diff := cmp.Diff(want, got); err != nil || diff != "" {
					t.Errorf("Policy(%s): %v (-want +got):\n%s", want.ID, err, diff)
				}
			}

			wantAccounts, _ := e.ref.Accounts()
			gotAccounts, err := v.Accounts()
			if diff := cmp.Diff(wantAccounts, gotAccounts, cmpopts.EquateEmpty()); err != nil || diff != "" {
				t.Errorf("Accounts: %v (-want +got):\n%s", err, diff)
			}
			wantPolicies, _ := e.ref.Policies()
			for i := range wantPolicies {
				wantPolicies[i].Targets = sorted(wantPolicies[i].Targets)
			}
			gotPolicies, err := v.Policies()
			if diff := cmp.Diff(wantPolicies, gotPolicies, cmpopts.EquateEmpty()); err != nil || diff != "" {
				t.Errorf("Policies: %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	v := e.view(t)
	tests := []struct {
		name string
		read func() error
	}{
		{"Account unknown", func() error { _, err := v.Account("999999999999"); return err }},
		{"Account malformed", func() error { _, err := v.Account("web"); return err }},
		{"Parents unknown account", func() error { _, err := v.Parents("999999999999"); return err }},
		{"Parents unknown OU", func() error { _, err := v.Parents("ou-ab12-missing1"); return err }},
		{"Parents of nonsense", func() error { _, err := v.Parents("x"); return err }},
		{"PoliciesFor unknown", func() error { _, err := v.PoliciesFor("ou-ab12-missing1"); return err }},
		{"Policy unknown", func() error { _, err := v.Policy("p-missing1"); return err }},
		{"Tags unknown", func() error { _, err := v.Tags("999999999999"); return err }},
		{"RootCredentials unknown", func() error { _, err := v.RootCredentials("999999999999"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.read(); !isNotFoundErr(err) {
				t.Errorf("err = %v, want org.ErrNotFound", err)
			}
		})
	}
}

func TestErrorsAreWrappedNotNotFound(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	v := e.view(t)
	e.fake.Fail(awsfake.Organizations, "DescribeAccount", awsfake.APIError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: "not the management account"}, -1)
	e.fake.Fail(awsfake.Organizations, "ListRoots", awsfake.APIError{Status: http.StatusServiceUnavailable, Code: "ServiceException", Message: "down"}, -1)
	for name, read := range map[string]func() error{
		"Account":      func() error { _, err := v.Account("222222222222"); return err },
		"Organization": func() error { _, err := v.Organization(); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := read()
			var ae smithy.APIError
			if err == nil || isNotFoundErr(err) || !errors.As(err, &ae) {
				t.Errorf("err = %v: want the AWS error, wrapped, and not ErrNotFound", err)
			}
		})
	}
	calls, errs := v.Stats().Total()
	if calls != 2 || errs != 2 {
		t.Errorf("view stats: %d calls, %d errors; want 2 and 2", calls, errs)
	}
}

func TestRootCredentialsModes(t *testing.T) {
	t.Run("assume-root reads the management account through the audit role when elsewhere", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{Mode: ModeAssumeRoot, RoleName: auditRole, AccountID: "222222222222"})
		rc, err := e.view(t).RootCredentials("111111111111")
		if err != nil || rc == nil || !*rc.MFAEnabled {
			t.Fatalf("RootCredentials = %v, %v", rc, err)
		}
		if n := e.fake.Calls(awsfake.STS, "AssumeRole"); n != 1 {
			t.Errorf("%d AssumeRole calls, want 1", n)
		}
	})
	t.Run("assume-root without a role cannot read the management account elsewhere", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{Mode: ModeAssumeRoot, AccountID: "222222222222"})
		if _, err := e.view(t).RootCredentials("111111111111"); !errors.Is(err, ErrUnreadable) {
			t.Errorf("err = %v, want ErrUnreadable", err)
		}
	})
	t.Run("the account the function runs in is read with its own credentials", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{Mode: ModeAssumeRoot})
		if _, err := e.view(t).RootCredentials("111111111111"); err != nil {
			t.Fatalf("RootCredentials: %v", err)
		}
		got := e.fake.CallCounts()
		if got["sts.GetCallerIdentity"] != 1 || got["iam.GetAccountSummary"] != 1 || got["sts.AssumeRoot"]+got["sts.AssumeRole"] != 0 {
			t.Errorf("calls %v: want GetCallerIdentity then GetAccountSummary, no session", got)
		}
	})
	t.Run("assume-root reads the four root-user calls in one session", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{Mode: ModeAssumeRoot, AccountID: "111111111111"})
		v := e.view(t)
		for _, id := range []string{"333333333333", "555555555555"} {
			if _, err := v.RootCredentials(id); err != nil {
				t.Fatalf("RootCredentials(%s): %v", id, err)
			}
		}
		got := e.fake.CallCounts()
		want := map[string]int{"sts.AssumeRoot": 2, "iam.GetLoginProfile": 2, "iam.ListMFADevices": 2, "iam.ListAccessKeys": 2, "iam.ListSigningCertificates": 2, "organizations.DescribeAccount": 2, "organizations.ListRoots": 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		for _, c := range e.fake.CallLog() {
			if c.Operation == "AssumeRoot" && c.Region != "eu-west-1" {
				t.Errorf("AssumeRoot signed for %q, want the regional endpoint of eu-west-1", c.Region)
			}
		}
	})
	t.Run("sessions are reused until they expire", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{AccountID: "111111111111", TTL: sessionTTL})
		v := e.view(t)
		for range 2 {
			if _, err := v.RootCredentials("222222222222"); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(sessionTTL + time.Second)
		}
		if n := e.fake.Calls(awsfake.STS, "AssumeRole"); n != 2 {
			t.Errorf("%d AssumeRole calls across a TTL longer than the session, want 2", n)
		}
		if n := e.fake.Calls(awsfake.IAM, "GetAccountSummary"); n != 2 {
			t.Errorf("%d GetAccountSummary calls, want 2 (one per expired cache entry)", n)
		}
	})
}

// sessionTTL is a facts TTL as long as an audit role session, so that the sessions expire with
// the facts (DefaultTTL is shorter: a session outlives it).
const sessionTTL = sessionSeconds * time.Second

func TestCacheTTL(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{AccountID: "111111111111", TTL: sessionTTL})
	read := func(v *View) {
		t.Helper()
		for _, f := range []func() error{
			func() error { _, err := v.Organization(); return err },
			func() error { _, err := v.Account("222222222222"); return err },
			func() error { _, err := v.Parents("222222222222"); return err },
			func() error { _, err := v.PoliciesFor("ou-ab12-web00001"); return err },
			func() error { _, err := v.Tags("222222222222"); return err },
			func() error { _, err := v.RootCredentials("222222222222"); return err },
		} {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
	}
	read(e.view(t))
	first := len(e.fake.CallLog())
	read(e.view(t)) // a warm invocation
	if n := len(e.fake.CallLog()); n != first {
		t.Errorf("warm read made %d calls, want none", n-first)
	}
	e.clock.Advance(sessionTTL)
	read(e.view(t))
	if n := len(e.fake.CallLog()); n != 2*first {
		t.Errorf("after the TTL: %d calls, want the first read's %d again", n-first, first)
	}

	if def := New(Config{RoleName: auditRole, AccountID: "111111111111"}, testClients(e.fake, 3)); def.cfg.TTL != function.DefaultFactsTTL {
		t.Errorf("TTL unset: %v, want ROOTGUARD_FACTS_TTL's default %v", def.cfg.TTL, function.DefaultFactsTTL)
	}
	off := New(Config{RoleName: auditRole, AccountID: "111111111111", TTL: -1}, testClients(e.fake, 3))
	e.fake.ResetCalls()
	read(off.For(t.Context()))
	read(off.For(t.Context()))
	if n := e.orgCalls(); n < 2*4 {
		t.Errorf("cache disabled: %d Organizations calls for two reads, want every read to call", n)
	}
}

func TestThrottlingIsSurvived(t *testing.T) {
	// One read at a time: every 2nd request of a service throttled then means every call
	// succeeds at its 2nd attempt.
	e := setup(t, awsfake.Sample(), Config{AccountID: "111111111111", Concurrency: 1})
	for _, s := range []string{awsfake.Organizations, awsfake.STS, awsfake.IAM} {
		e.fake.ThrottleEvery(s, 2)
	}
	accounts, err := e.view(t).Accounts()
	if err != nil {
		t.Fatalf("Accounts under throttling: %v", err)
	}
	want, _ := e.ref.Accounts()
	if diff := cmp.Diff(want, accounts, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Accounts under throttling (-want +got):\n%s", diff)
	}
	throttled := 0
	for _, c := range e.fake.CallLog() {
		if c.Error == "TooManyRequestsException" || c.Error == "Throttling" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("no call was throttled: the test proves nothing")
	}

	// Throttled for good: the error comes back wrapped (the rules fail closed), not as not-found.
	e.fake.ThrottleEvery(awsfake.Organizations, 1)
	cold := New(Config{RoleName: auditRole}, testClients(e.fake, 3))
	_, err = cold.For(ctxWithTimeout(t, 5*time.Second)).Account("333333333333")
	var ae smithy.APIError
	if err == nil || isNotFoundErr(err) || !errors.As(err, &ae) || ae.ErrorCode() != "TooManyRequestsException" {
		t.Errorf("err = %v, want the throttling error after the retries", err)
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	e.fake.ThrottleEvery(awsfake.Organizations, 1)
	clients := testClients(e.fake, 1000)
	// Retry without the SDK's retry quota, which would otherwise end the retries first.
	orgs := organizations.NewFromConfig(aws.Config{
		Region:      OrganizationsRegion,
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.CentralAccessKeyID, "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts, o.RateLimiter = 1000, ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 20 * time.Millisecond, nil })
			})
		},
	}, func(o *organizations.Options) { o.BaseEndpoint = aws.String(e.fake.URL(awsfake.Organizations)) })
	clients.Organizations = orgs
	slow := New(Config{RoleName: auditRole}, clients)
	ctx := ctxWithTimeout(t, 200*time.Millisecond)
	_, err := slow.For(ctx).Organization()
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err = %v, ctx = %v: want the call to end with the context", err, ctx.Err())
	}
	if n := e.orgCalls(); n >= 1000 {
		t.Errorf("%d attempts: the deadline did not stop the retries", n)
	}
}

func TestConcurrentViews(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{AccountID: "111111111111"})
	doc := e.ref.Doc()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		v := e.view(t)
		for _, a := range doc.Accounts {
			wg.Go(func() {
				if _, err := v.Parents(a.ID); err != nil {
					errs <- err
				}
				ids, err := v.PoliciesFor(a.ID)
				if err != nil {
					errs <- err
				}
				for _, id := range ids {
					if _, err := v.Policy(id); err != nil {
						errs <- err
					}
				}
				if _, err := v.RootCredentials(a.ID); err != nil && !errors.Is(err, ErrUnreadable) {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

type metricsRecorder struct {
	mu    sync.Mutex
	calls map[string]int
	errs  int
}

func (m *metricsRecorder) AWSCall(service, op string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[service+"."+op]++
	if err != nil {
		m.errs++
	}
}

func TestMetricsCountEveryCall(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	m := &metricsRecorder{calls: map[string]int{}}
	f := New(Config{RoleName: auditRole, Metrics: m}, testClients(e.fake, 3))
	v := f.For(t.Context())
	if _, err := v.Accounts(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Policy("p-missing1"); !isNotFoundErr(err) {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e.fake.CallCounts(), m.calls); diff != "" {
		t.Errorf("metrics vs the requests the fake received (-fake +metrics):\n%s", diff)
	}
	if diff := cmp.Diff(f.Stats().Calls, v.Stats().Calls); diff != "" {
		t.Errorf("facts stats vs view stats:\n%s", diff)
	}
	failed := 0
	for _, c := range e.fake.CallLog() {
		if c.Error != "" {
			failed++
		}
	}
	_, errs := v.Stats().Total()
	if m.errs != failed || errs != failed || failed != 2 {
		t.Errorf("errors: metrics %d, stats %d, fake %d; want 2 (the unreadable account's AssumeRole, the unknown policy)", m.errs, errs, failed)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{RoleName: "r"}, true},
		{Config{}, false},
		{Config{Mode: ModeAssumeRoot}, true},
		{Config{Mode: "magic"}, false},
		{Config{Mode: ModeAssumeRoot, AccountID: "12"}, false},
		{Config{Mode: ModeAssumeRoot, Concurrency: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.cfg, err, tt.ok)
		}
	}
}

func TestNewClientsRetryAndRegion(t *testing.T) {
	if _, err := NewClients(aws.Config{}); err == nil {
		t.Error("NewClients without a region: no error")
	}
	c, err := NewClients(aws.Config{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	orgs, iamc, stsc := c.Organizations.Options(), c.IAM.Options(), c.STS.Options()
	got := map[string]any{
		"organizations": []any{orgs.Region, orgs.Retryer.MaxAttempts()},
		"iam":           []any{iamc.Region, iamc.Retryer.MaxAttempts()},
		"sts":           []any{stsc.Region, stsc.Retryer.MaxAttempts()},
	}
	want := map[string]any{
		"organizations": []any{OrganizationsRegion, MaxAttempts},
		"iam":           []any{OrganizationsRegion, MaxAttempts},
		"sts":           []any{"eu-west-1", MaxAttempts},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client region and attempts (-want +got):\n%s", diff)
	}
}

func TestNewClientsHonoursEndpointEnvironment(t *testing.T) {
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	cfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		t.Fatalf("awsenv.Load: %v", err)
	}
	clients, err := NewClients(cfg)
	if err != nil {
		t.Fatalf("NewClients: %v", err)
	}
	v := New(Config{RoleName: auditRole}, clients).For(t.Context())
	o, err := v.Organization()
	if err != nil || o.ManagementAccountID != "111111111111" {
		t.Fatalf("Organization = %+v, %v", o, err)
	}
	if _, err := v.RootCredentials("222222222222"); err != nil {
		t.Fatalf("RootCredentials: %v", err)
	}
	regions := map[string]string{}
	for _, c := range fake.CallLog() {
		regions[c.Service] = c.Region
	}
	want := map[string]string{awsfake.Organizations: "us-east-1", awsfake.STS: "eu-west-1", awsfake.IAM: "us-east-1"}
	if diff := cmp.Diff(want, regions); diff != "" {
		t.Errorf("signing regions (-want +got):\n%s", diff)
	}
}

func TestMissingClientsFailClosed(t *testing.T) {
	v := New(Config{Mode: ModeAssumeRoot}, Clients{}).For(t.Context())
	if _, err := v.Organization(); !errors.Is(err, errNoClient) {
		t.Errorf("Organization without a client: err = %v, want errNoClient", err)
	}
	if _, err := v.Parents("ou-ab12-prod0001"); !errors.Is(err, errNoClient) {
		t.Errorf("Parents without a client: err = %v, want errNoClient", err)
	}
	if _, err := v.RootCredentials("222222222222"); !errors.Is(err, errNoClient) {
		t.Errorf("RootCredentials without a client: err = %v, want errNoClient", err)
	}
}
