package daily

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/aws/awsenv"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

const (
	bucket = "rootguard-reports-test"
	keyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	topic  = "arn:aws:sns:us-east-1:123456789012:rootguard-alerts"
)

// fakeS3 is gofakes3 served over HTTP, recording the headers of every request.
type fakeS3 struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	f := &fakeS3{}
	faker := gofakes3.New(backend).Server()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		faker.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// published records SNS Publish calls.
type published struct {
	mu   sync.Mutex
	msgs []*sns.PublishInput
	err  error
}

func (p *published) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	p.msgs = append(p.msgs, in)
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

// awsConfig is the audit function's SDK configuration, as the Lambda environment gives it, with
// S3 sent to the fake through AWS_ENDPOINT_URL_S3.
func awsConfig(t *testing.T, s3URL string) aws.Config {
	t.Helper()
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": s3URL,
	}
	cfg, err := awsenv.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type snapshotFacts struct{ s *org.Snapshot }

func (f snapshotFacts) For(context.Context) org.Facts { return f.s }
func (snapshotFacts) Invalidate(*cloudtrail.Event)    {}

type discard struct{ n int }

func (d *discard) Publish(_ context.Context, fs []finding.Finding) error { d.n += len(fs); return nil }

func setup(t *testing.T) (*org.Snapshot, *rule.Engine) {
	t.Helper()
	snap, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"},
		TrustedPrincipals: []string{"arn:aws:iam::111111111111:role/stax-guardrail-automation"}})
	if err != nil {
		t.Fatal(err)
	}
	return snap, eng
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestDailyReportThroughTheAuditHandler: a scheduled audit publishes its findings, then writes
// the report to the bucket (SSE-KMS with the configured key, HTML, no caching) and emails a
// summary naming the s3:// URI, without a link unless one is asked for.
func TestDailyReportThroughTheAuditHandler(t *testing.T) {
	fs3 := newFakeS3(t)
	snap, eng := setup(t)
	mail := &published{}
	cfg := Config{Bucket: bucket, Prefix: function.DefaultReportPrefix, KMSKey: keyARN, TopicARN: topic}
	d := New(awsConfig(t, fs3.URL), cfg, eng.Config())
	d.SNS = mail
	out := &discard{}
	h := &handler.Auditor{Engine: eng, Facts: snapshotFacts{snap}, Out: out, AfterAudit: d.Deliver,
		Log: discardLogger()}
	ev := `{"id":"sched-1","source":"aws.events","detail-type":"Scheduled Event","time":"2026-12-01T09:00:00Z"}`
	if err := h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
		t.Fatal(err)
	}
	if out.n == 0 {
		t.Fatal("the audit published no finding")
	}
	key := "reports/2026/12/01/rootguard-report-20261201T090000Z.html"
	if got := d.Key(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)); got != key {
		t.Fatalf("key %q", got)
	}
	status, body, hdr := get(t, fs3.URL+"/"+bucket+"/"+key)
	if status != 200 {
		t.Fatalf("GET the report: %d %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{"Content-Security-Policy", "o-st4x1example", "acme-legacy", "555555555555", "POSTURE-ROOT-ACCESS-KEYS"} {
		if !strings.Contains(body, want) {
			t.Errorf("the stored report lacks %q", want)
		}
	}
	var put http.Header
	for _, h := range fs3.headers {
		if h.Get("X-Amz-Server-Side-Encryption") != "" {
			put = h
		}
	}
	if put == nil || put.Get("X-Amz-Server-Side-Encryption") != "aws:kms" || put.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != keyARN {
		t.Errorf("the report was not written with SSE-KMS and the reports key: %v", put)
	}
	if len(mail.msgs) != 1 {
		t.Fatalf("%d emails, want 1", len(mail.msgs))
	}
	m := mail.msgs[0]
	subject, msg := aws.ToString(m.Subject), aws.ToString(m.Message)
	if aws.ToString(m.TopicArn) != topic || !strings.HasPrefix(subject, "[rootguard] daily audit 2026-12-01: ") || len(subject) >= 100 {
		t.Errorf("subject %q to %s", subject, aws.ToString(m.TopicArn))
	}
	for _, want := range []string{"s3://" + bucket + "/" + key, "Findings: ", "CRITICAL POSTURE-ROOT-ACCESS-KEYS 555555555555", "Accounts: 10 (5 Stax-owned, 5 customer-owned"} {
		if !strings.Contains(strings.Join(strings.Fields(msg), " "), want) {
			t.Errorf("the email lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "X-Amz-Signature") || strings.Contains(msg, "http") {
		t.Errorf("the email carries a link though none was asked for:\n%s", msg)
	}
	if a := m.MessageAttributes["kind"]; aws.ToString(a.StringValue) != "daily-report" {
		t.Errorf("message attribute kind = %v", a.StringValue)
	}
}

// TestPresignedLink: with ROOTGUARD_REPORT_PRESIGN the email carries a GET link that fetches
// the report, and says that temporary role credentials can end it sooner.
func TestPresignedLink(t *testing.T) {
	fs3 := newFakeS3(t)
	snap, eng := setup(t)
	mail := &published{}
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{function.EnvReportBucket: bucket, function.EnvReportPresign: "72h", function.EnvAlertsTopicARN: topic}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 5, 0, time.UTC)
	d := New(awsConfig(t, fs3.URL), cfg, eng.Config())
	d.SNS, d.Now = mail, func() time.Time { return now }
	findings, err := eng.Audit(snap, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Deliver(context.Background(), snap, findings, now); err != nil {
		t.Fatal(err)
	}
	msg := aws.ToString(mail.msgs[0].Message)
	var link string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, fs3.URL) {
			link = l
		}
	}
	if link == "" || !strings.Contains(link, "X-Amz-Expires=259200") || !strings.Contains(link, "X-Amz-Signature=") {
		t.Fatalf("no pre-signed link valid 72h in the email:\n%s", msg)
	}
	if !strings.Contains(msg, "works until 2026-12-04 09:00 UTC") || !strings.Contains(msg, "temporary role credentials") {
		t.Errorf("the email does not say how long the link works:\n%s", msg)
	}
	status, body, _ := get(t, link)
	if status != 200 || !strings.Contains(body, "rootguard posture report") {
		t.Errorf("GET the pre-signed link: %d", status)
	}
}

// TestDeliveryFailures: a bucket that cannot be written fails the delivery with a message that
// names it, and no email is sent; bad configuration names the variable.
func TestDeliveryFailures(t *testing.T) {
	fs3 := newFakeS3(t)
	snap, eng := setup(t)
	mail := &published{}
	d := New(awsConfig(t, fs3.URL), Config{Bucket: "no-such-bucket", Prefix: function.DefaultReportPrefix, TopicARN: topic}, eng.Config())
	d.SNS = mail
	err := d.Deliver(context.Background(), snap, nil, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/reports/2026/12/01/") {
		t.Errorf("error %v does not name the object", err)
	}
	if len(mail.msgs) != 0 {
		t.Errorf("an email was sent for a report that was not written")
	}
	for env, want := range map[string]string{
		function.EnvReportPresign: "ROOTGUARD_REPORT_PRESIGN: 200h0m0s is longer",
		function.EnvReportBucket:  "ROOTGUARD_REPORT_BUCKET: \"s3://x\" is not an S3 bucket name",
		function.EnvReportKMSKey:  "ROOTGUARD_REPORT_KMS_KEY: \"alias/x\" is not a KMS key ARN",
	} {
		vals := map[string]string{function.EnvReportBucket: bucket, function.EnvReportPresign: "200h", function.EnvReportKMSKey: "alias/x"}
		if env == function.EnvReportBucket {
			vals = map[string]string{function.EnvReportBucket: "s3://x"}
		} else if env == function.EnvReportKMSKey {
			vals = map[string]string{function.EnvReportBucket: bucket, function.EnvReportKMSKey: "alias/x"}
		}
		if _, err := LoadConfig(func(k string) string { return vals[k] }); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", env, err, want)
		}
	}
	if c, err := LoadConfig(func(string) string { return "" }); err != nil || c.Bucket != "" || c.Presign != 0 {
		t.Errorf("empty environment: %+v %v (want no report, no error)", c, err)
	}
}

// TestOncePerDay: with the audit's interval configured, only the run in the first interval of the
// UTC day delivers.
func TestOncePerDay(t *testing.T) {
	c, err := LoadConfig(func(k string) string {
		return map[string]string{function.EnvReportBucket: bucket, function.EnvReportInterval: "6h"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {5*time.Hour + 59*time.Minute, true}, {6 * time.Hour, false}, {17 * time.Hour, false}, {23*time.Hour + 59*time.Minute, false}} {
		if got := c.Due(day.Add(tc.at)); got != tc.want {
			t.Errorf("audit at %s: due %v, want %v", day.Add(tc.at).Format(time.RFC3339), got, tc.want)
		}
	}
	c.Interval = 0
	if !c.Due(day.Add(17 * time.Hour)) {
		t.Errorf("without an interval every run delivers")
	}
	fs3 := newFakeS3(t)
	_, eng := setup(t)
	mail := &published{}
	d := New(awsConfig(t, fs3.URL), Config{Bucket: bucket, Prefix: function.DefaultReportPrefix, TopicARN: topic, Interval: 6 * time.Hour}, eng.Config())
	d.SNS = mail
	if err := d.Deliver(context.Background(), org.Empty{}, nil, day.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(mail.msgs) != 0 || len(fs3.headers) != 0 {
		t.Errorf("a midday audit delivered: %d emails, %d S3 requests", len(mail.msgs), len(fs3.headers))
	}
	if _, err := LoadConfig(func(k string) string { return map[string]string{function.EnvReportInterval: "often"}[k] }); err == nil || !strings.Contains(err.Error(), function.EnvReportInterval) {
		t.Errorf("a bad interval: %v", err)
	}
}
