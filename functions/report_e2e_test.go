//go:build linux

package functions

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rootguard/rootguard/internal/function"
)

// TestDailyReportEndToEnd runs the real audit binary under the Lambda emulator with the reports
// bucket configured (an in-process S3, gofakes3, through AWS_ENDPOINT_URL_S3): the harness's
// scheduled audit writes the HTML report to the bucket and emails its summary, with the s3://
// URI and a pre-signed link, to the alerts topic (goaws).
func TestDailyReportEndToEnd(t *testing.T) {
	const bucket = "rootguard-reports-e2e"
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3.Close()
	h := setupWith(t, setupOptions{env: map[string]string{
		"AWS_ENDPOINT_URL_S3":     s3.URL,
		function.EnvReportBucket:  bucket,
		function.EnvReportPresign: "48h",
	}})
	defer h.stopEvaluators()

	// The setup ran the audit once: its report is in the bucket, under today's prefix.
	day := time.Now().UTC().Format("2006/01/02")
	list, err := backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: function.DefaultReportPrefix + day + "/", HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) == 0 {
		t.Fatalf("no report under s3://%s/%s%s/", bucket, function.DefaultReportPrefix, day)
	}
	key := list.Contents[len(list.Contents)-1].Key
	resp, err := http.Get(s3.URL + "/" + bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if !strings.Contains(page, "Content-Security-Policy") || !strings.Contains(page, "rootguard posture report") {
		t.Fatalf("the stored object is not the report: %.200s", page)
	}
	for _, want := range []string{"acme-legacy", "Production", "Foundation", "POSTURE-ROOT-ACCESS-KEYS"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q (accounts, OU names read live, findings)", want)
		}
	}

	// The summary email, among the alerts (the audit's findings are emailed by the notifier only
	// when their events reach it; here only the audit published).
	emails, err := h.sns.drain(h.alerts.queueURL)
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	for _, m := range emails {
		if strings.HasPrefix(m.Subject, "[rootguard] daily audit ") {
			summary = m.Message
			if got := m.MessageAttributes["kind"]["Value"]; got != "daily-report" {
				t.Errorf("message attribute kind = %q", got)
			}
		}
	}
	if summary == "" {
		t.Fatalf("no daily summary among %d alerts", len(emails))
	}
	for _, want := range []string{"s3://" + bucket + "/" + key, "Pre-signed link", "X-Amz-Signature="} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
}
