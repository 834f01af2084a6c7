package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/render"
	"github.com/rootguard/rootguard/internal/route"
)

func sample(id string, sev finding.Severity) finding.Finding {
	return finding.Finding{
		ID: id, Rule: "ROOT-SIGNIN-NO-MFA", Severity: sev, AccountID: "333333333333", AccountName: "acme-web-prod",
		Ownership: finding.CustomerOwned, AccountRole: finding.Member, Title: "Root sign-in without MFA",
		Description: "Root signed in without MFA.", Remediation: "The customer enables root MFA.",
		EventID: "e-1", EventName: "ConsoleLogin", EventTime: "2026-11-17T09:01:26Z", Region: "us-east-1",
		Actor: "arn:aws:iam::333333333333:root", SourceIP: "198.51.100.24",
	}
}

func event(t testing.TB, f finding.Finding) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "bus-1", "source": route.FindingSource, "detail-type": route.FindingDetailType,
		"account": "111111111111", "time": "2026-11-17T09:01:30Z", "region": "us-east-1", "detail": json.RawMessage(f.JSON()),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a Sender that records what it was sent and fails when told.
type recorder struct {
	got []string
	err error
}

func (r *recorder) Send(_ context.Context, fs []finding.Finding) error {
	for _, f := range fs {
		r.got = append(r.got, f.ID)
	}
	return r.err
}

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func TestHandlerChannels(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "slow down"}
	deleted := &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	tests := []struct {
		name      string
		f         finding.Finding
		errs      [3]error // alerts, chat, securityhub
		want      [3]bool  // sent to alerts, chat, securityhub
		wantErr   []string
		retryable []bool
	}{
		{name: "critical to every channel", f: sample("f-1", finding.Critical), want: [3]bool{true, true, true}},
		{name: "low below chat minimum", f: sample("f-2", finding.Low), want: [3]bool{true, false, true}},
		{name: "informational only to security hub", f: sample("f-3", finding.Informational), want: [3]bool{false, false, true}},
		{name: "canary to no channel, not even Security Hub", f: func() finding.Finding { f := sample("f-4", finding.Critical); f.Canary = true; return f }(), want: [3]bool{false, false, false}},
		{
			name: "failed channels reported, others still sent", f: sample("f-5", finding.High),
			errs: [3]error{deleted, nil, throttled}, want: [3]bool{true, true, true},
			wantErr: []string{"deliver to alerts (permanent)", "deliver to securityhub (retryable)"}, retryable: []bool{false, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := [3]*recorder{{err: tt.errs[0]}, {err: tt.errs[1]}, {err: tt.errs[2]}}
			var metrics bytes.Buffer
			h := &Handler{
				Channels: []Channel{
					{Name: ChannelAlerts, MinSeverity: finding.Low, People: true, Sender: recs[0]},
					{Name: ChannelChat, MinSeverity: finding.Medium, People: true, Sender: recs[1]},
					{Name: ChannelSecurityHub, MinSeverity: finding.Informational, Sender: recs[2]},
				},
				Log: quietLog(), Metrics: metric.New(&metrics, function.Notifier),
			}
			err := h.Handle(context.Background(), event(t, tt.f))
			for i, r := range recs {
				if sent := len(r.got) == 1 && r.got[0] == tt.f.ID; sent != tt.want[i] {
					t.Errorf("channel %d: sent %v, want %v", i, r.got, tt.want[i])
				}
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Handle succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var joined interface{ Unwrap() []error }
			var inner []error
			if errors.As(err, &joined) {
				inner = joined.Unwrap()
			}
			var got []bool
			for _, e := range inner {
				var fe *fault.Error
				if errors.As(e, &fe) {
					got = append(got, fe.Retryable)
				}
			}
			if diff := cmp.Diff(tt.retryable, got); diff != "" {
				t.Errorf("retryable per failed channel (-want +got):\n%s", diff)
			}
			if !strings.Contains(metrics.String(), `"DeliveryFailures":1`) {
				t.Errorf("no DeliveryFailures metric in %s", metrics.String())
			}
		})
	}
}

func TestHandlerRefusesNonFindings(t *testing.T) {
	good := sample("f-1", finding.High)
	noRule := good
	noRule.Rule = ""
	tests := map[string][]byte{
		"not JSON":         []byte("{"),
		"other source":     []byte(`{"source":"aws.signin","detail-type":"RootGuard Finding","detail":{}}`),
		"other type":       []byte(`{"source":"rootguard","detail-type":"Something","detail":{}}`),
		"detail not found": []byte(`{"source":"rootguard","detail-type":"RootGuard Finding","detail":[1]}`),
		"no id":            []byte(`{"source":"rootguard","detail-type":"RootGuard Finding","detail":{"rule":"X","severity":"LOW"}}`),
		"no rule":          event(t, noRule),
		"bad severity":     []byte(`{"source":"rootguard","detail-type":"RootGuard Finding","detail":{"id":"a","rule":"X","severity":"URGENT"}}`),
		"no severity":      []byte(`{"source":"rootguard","detail-type":"RootGuard Finding","detail":{"id":"a","rule":"X"}}`),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			h := &Handler{Channels: []Channel{{Name: ChannelSecurityHub, Sender: rec}}, Log: quietLog()}
			err := h.Handle(context.Background(), raw)
			if !errors.Is(err, ErrNotFinding) || fault.Classify(err) {
				t.Errorf("Handle = %v, want a permanent ErrNotFinding", err)
			}
			if len(rec.got) != 0 {
				t.Errorf("sent %v", rec.got)
			}
		})
	}
}

// fakeSNS records Publish calls.
type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

func TestAlerts(t *testing.T) {
	api := &fakeSNS{}
	f := sample("f-1", finding.High)
	f.AccountName = "acme\r\nBcc: evil@example.com — “prod” 🚨"
	a := &Alerts{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts"}
	if err := a.Send(context.Background(), []finding.Finding{f}); err != nil {
		t.Fatal(err)
	}
	if len(api.in) != 1 {
		t.Fatalf("%d publishes, want 1", len(api.in))
	}
	in := api.in[0]
	subject := aws.ToString(in.Subject)
	if subject != render.EmailSubject(f) || len(subject) > 100 || strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q", subject)
	}
	if aws.ToString(in.Message) != render.EmailBody(f) || aws.ToString(in.TopicArn) != a.TopicARN {
		t.Errorf("message or topic differ: %+v", in)
	}
	attrs := map[string]string{}
	for k, v := range in.MessageAttributes {
		attrs[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	if diff := cmp.Diff(map[string]string{"severity": "String:HIGH", "rule": "String:ROOT-SIGNIN-NO-MFA"}, attrs); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}

	api.err = &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	err := a.Send(context.Background(), []finding.Finding{f, sample("f-2", finding.Low)})
	if err == nil || !strings.Contains(err.Error(), "f-1") || len(api.in) != 2 {
		t.Errorf("Send with a deleted topic = %v after %d publishes; want an error naming f-1 after the first", err, len(api.in)-1)
	}
}

func TestChat(t *testing.T) {
	api := &fakeSNS{}
	f := sample("f-1", finding.Critical)
	c := &Chat{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:chat"}
	if err := c.Send(context.Background(), []finding.Finding{f}); err != nil {
		t.Fatal(err)
	}
	want, _ := render.Chat(f)
	if got := aws.ToString(api.in[0].Message); got != string(want) {
		t.Errorf("message %s, want %s", got, want)
	}
	if api.in[0].Subject != nil {
		t.Errorf("chat message has a subject %q", aws.ToString(api.in[0].Subject))
	}
}

// fakeHub records imports and fails the first n findings of the next call.
type fakeHub struct {
	calls  [][]shtypes.AwsSecurityFinding
	failN  int
	err    error
	region string
}

func (f *fakeHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	f.calls = append(f.calls, in.Findings)
	if f.err != nil {
		return nil, f.err
	}
	out := &securityhub.BatchImportFindingsOutput{SuccessCount: aws.Int32(int32(len(in.Findings) - f.failN)), FailedCount: aws.Int32(int32(f.failN))}
	for i := 0; i < f.failN; i++ {
		out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: in.Findings[i].Id, ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")})
	}
	f.failN = 0
	return out, nil
}

func TestSecurityHub(t *testing.T) {
	var fs []finding.Finding
	for i := range 150 {
		fs = append(fs, sample(fmt.Sprintf("f-%03d", i), finding.Medium))
	}
	fs[0].Resources = []string{"p-st4xprot01"}
	api := &fakeHub{}
	s := &SecurityHub{API: api, Region: "eu-west-1", Account: func(context.Context) (string, error) { return "111111111111", nil },
		Now: func() time.Time { return time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) }}
	if err := s.Send(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	if len(api.calls) != 2 || len(api.calls[0]) != 100 || len(api.calls[1]) != 50 {
		t.Fatalf("calls of %v findings, want 100 then 50", lens(api.calls))
	}
	first := api.calls[0][0]
	if aws.ToString(first.AwsAccountId) != "111111111111" || aws.ToString(first.Id) != "f-000" ||
		aws.ToString(first.ProductArn) != "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default" {
		t.Errorf("first finding: account %s, id %s, product %s", aws.ToString(first.AwsAccountId), aws.ToString(first.Id), aws.ToString(first.ProductArn))
	}
	var res []string
	for _, r := range first.Resources {
		res = append(res, aws.ToString(r.Type)+" "+aws.ToString(r.Id))
	}
	if diff := cmp.Diff([]string{"AwsAccount AWS::::Account:333333333333", "Other p-st4xprot01"}, res); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if first.Severity == nil || first.Severity.Label != shtypes.SeverityLabelMedium || first.FindingProviderFields == nil {
		t.Errorf("severity %+v, provider fields %+v", first.Severity, first.FindingProviderFields)
	}
	if first.Resources[0].Details == nil || first.Resources[0].Details.Other["accountName"] != "acme-web-prod" {
		t.Errorf("account resource details %+v", first.Resources[0].Details)
	}

	api.failN = 2
	err := s.Send(context.Background(), fs[:3])
	if !errors.Is(err, fault.ErrPartial) || !fault.Classify(err) || !strings.Contains(err.Error(), "f-000: InternalFailure") {
		t.Errorf("partial failure = %v, want a retryable ErrPartial naming f-000", err)
	}

	s.Account = func(context.Context) (string, error) { return "", errors.New("no identity") }
	if err := s.Send(context.Background(), fs[:1]); err == nil || !strings.Contains(err.Error(), "calling account") {
		t.Errorf("Send without a calling account = %v", err)
	}
}

func lens(calls [][]shtypes.AwsSecurityFinding) []int {
	var out []int
	for _, c := range calls {
		out = append(out, len(c))
	}
	return out
}

type fakeSTS struct {
	n       int
	account string
	err     error
}

func (f *fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.n++
	if f.err != nil {
		return nil, f.err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account)}, nil
}

func TestCallerAccount(t *testing.T) {
	api := &fakeSTS{account: "111111111111"}
	c := &CallerAccount{STS: api}
	for range 3 {
		if got, err := c.Get(context.Background()); err != nil || got != "111111111111" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	}
	if api.n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want 1 (remembered)", api.n)
	}

	failing := &CallerAccount{STS: &fakeSTS{err: errors.New("no network")}}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{InvokedFunctionArn: "arn:aws:lambda:us-east-1:222222222222:function:rootguard-notifier"})
	if got, err := failing.Get(ctx); err != nil || got != "222222222222" {
		t.Errorf("Get from the Lambda context = %q, %v; want 222222222222", got, err)
	}
	if _, err := failing.Get(context.Background()); err == nil {
		t.Error("Get without STS or Lambda context succeeded")
	}
}
