//go:build linux

// Package functions holds the end-to-end test of the rootguard Lambda functions: the real
// binaries, built for the host, run under the AWS Lambda Runtime Interface Emulator, against
// goaws for SNS and SQS and the awsfake endpoints for Organizations, IAM, STS, EventBridge and
// Security Hub.
package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/render"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
	"github.com/rootguard/rootguard/internal/testenv/dynalite"
)

const (
	busName     = "rootguard"
	staxDomains = "stax.example"
	auditRole   = "rootguard-audit"
	// trusted is the trusted principal the samples are written for (events/README.md).
	trusted = "arn:aws:iam::111111111111:role/stax-guardrail-automation"
	// approver is the exception approver the samples are written for (events/README.md).
	approver = "arn:aws:iam::111111111111:role/stax-exception-approver"
)

// The channels' minimum severities in the test configuration.
var (
	minEmail  = finding.Low
	minChat   = finding.Medium
	minSecHub = finding.Informational
)

// e2e is the running test environment.
type e2e struct {
	rie      string
	bins     map[string]string
	fake     *awsfake.Server
	orig     []byte // events/org.json as loaded, re-read for every sample
	mgmt     string
	rootID   string
	protects []string // ids of the protection SCPs of the sample organization
	sns      *goaws
	snsAPI   *sns.Client
	alerts   topic
	chat     topic
	env      []string
	notifier *lambdaFn
	running  map[string]*lambdaFn // evaluators of the current sample
	dyn      *dynalite.Server
	// seed is the state table as the first audit left it: each sample starts from it.
	seed []map[string]ddbtypes.AttributeValue
}

// stateTable is the DynamoDB state table of the test (ROOTGUARD_DEDUP_TABLE).
const stateTable = "rootguard-state"

type topic struct{ arn, queueURL, queueARN string }

func TestEndToEnd(t *testing.T) {
	h := setup(t)
	files := sampleFiles(t)
	t.Run("samples", func(t *testing.T) {
		for _, f := range files {
			t.Run(f, func(t *testing.T) { h.sample(t, f) })
		}
	})
	t.Run("organizations throttling half the calls", func(t *testing.T) {
		// Every second call, not a pseudo-random half: with a seeded random half, a run of
		// MaxAttempts throttles in a row (1 call in 256) depends on how many calls came before,
		// and so on every unrelated change of the calls made (fail-closed findings are covered by
		// "facts unreadable fail closed"; random throttling by TestFaultInjection).
		h.fake.ThrottleEvery(awsfake.Organizations, 2)
		defer h.fake.ClearFaults()
		before := throttled(h.fake)
		for _, f := range []string{
			"SCP-NOT-EFFECTIVE/HIGH.root-protection-detached-then-account-moved.json",
			"ROOT-SIGNIN-NO-MFA/HIGH.customer-root-login-without-mfa.json",
		} {
			t.Run(f, func(t *testing.T) { h.sample(t, f) })
		}
		if throttled(h.fake) == before {
			t.Error("the fake Organizations throttled no call: the test proves nothing")
		}
	})
	t.Run("facts unreadable fail closed", func(t *testing.T) { h.failClosed(t) })
	t.Run("canary findings reach no channel", func(t *testing.T) { h.canary(t) })
	t.Run("forged events refused", func(t *testing.T) { h.forged(t) })
	t.Run("forwarder deleted raises FORWARDER-TAMPERED", func(t *testing.T) { h.forwarderDeleted(t) })
	t.Run("undeliverable notification fails the invocation", func(t *testing.T) { h.undeliverable(t) })
	t.Run("duplicate finding events deliver once", func(t *testing.T) { h.duplicates(t) })
	t.Run("sticky ownership in the state table", func(t *testing.T) { h.stickyOwnership(t) })
	t.Run("exception grants through the state table", func(t *testing.T) { h.exceptionGrants(t) })
	h.stopEvaluators()
}

func throttled(f *awsfake.Server) int {
	n := 0
	for _, c := range f.CallLog() {
		if c.Service == awsfake.Organizations && c.Error == "TooManyRequestsException" {
			n++
		}
	}
	return n
}

// setupOptions change the environment for a test.
type setupOptions struct {
	// snsEndpoint, when set, gives the SNS endpoint the functions use in front of goaws's.
	snsEndpoint func(t *testing.T, goaws string) string
	// env adds to (or replaces in) every function's environment.
	env map[string]string
	// fake, when set, changes the fake endpoints' options (revert_test.go: the revert role).
	fake func(o *awsfake.Options)
}

func setup(t *testing.T) *e2e { return setupWith(t, setupOptions{}) }

func setupWith(t *testing.T, opts setupOptions) *e2e {
	t.Helper()
	dir := t.TempDir()
	rie := tool(t, []string{"aws-lambda-rie"}, riePackage)
	goawsBin := tool(t, []string{"goaws", "cmd"}, goawsPackage)
	h := &e2e{rie: rie, running: map[string]*lambdaFn{}}
	h.bins = buildFunctions(t, filepath.Join(dir, "bin"), function.Names())

	h.orig = events.Org()
	doc := h.origDoc(t)
	h.mgmt, h.rootID = doc.Organization.ManagementAccountID, doc.Organization.RootID
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{staxDomains}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := eng.Config()
	for _, p := range doc.Policies {
		if p.Type == org.PolicyTypeSCP && cfg.IsProtectionName(p.Name) {
			h.protects = append(h.protects, p.ID)
		}
	}
	fakeOpts := awsfake.Options{RoleName: auditRole}
	if opts.fake != nil {
		opts.fake(&fakeOpts)
	}
	h.fake, err = awsfake.New(doc, fakeOpts)
	if err != nil {
		t.Fatal(err)
	}
	h.seedForwarders()
	t.Cleanup(h.fake.Close)

	h.sns = startGoaws(t, goawsBin, dir, h.mgmt)
	t.Cleanup(h.sns.proc.stop)
	h.snsAPI = sns.New(sns.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(h.sns.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
	})
	h.alerts = h.createTopic(t, "rootguard-alerts")
	h.chat = h.createTopic(t, "rootguard-chat")
	snsEndpoint := h.sns.endpoint
	if opts.snsEndpoint != nil {
		snsEndpoint = opts.snsEndpoint(t, h.sns.endpoint)
	}
	h.dyn = dynalite.Start(t)
	h.dyn.CreateTable(t, stateTable)

	env := map[string]string{
		"PATH":                               os.Getenv("PATH"),
		"HOME":                               dir,
		"TZ":                                 "UTC",
		"AWS_ENDPOINT_URL_SNS":               snsEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB":          h.dyn.Endpoint,
		"ROOTGUARD_DEDUP_TABLE":              stateTable,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":        "30",
		"ROOTGUARD_STAX_DOMAINS":             staxDomains,
		"ROOTGUARD_EVENT_BUS":                busName,
		"ROOTGUARD_TRUSTED_PRINCIPALS":       trusted,
		"ROOTGUARD_EXCEPTION_APPROVERS":      approver,
		"ROOTGUARD_ROOT_CREDENTIALS_MODE":    "audit-role",
		"ROOTGUARD_AUDIT_ROLE_NAME":          auditRole,
		"ROOTGUARD_ALERTS_TOPIC_ARN":         h.alerts.arn,
		"ROOTGUARD_CHAT_TOPIC_ARN":           h.chat.arn,
		"ROOTGUARD_SECURITYHUB":              "true",
		"ROOTGUARD_MIN_SEVERITY_EMAIL":       minEmail.String(),
		"ROOTGUARD_MIN_SEVERITY_CHAT":        minChat.String(),
		"ROOTGUARD_MIN_SEVERITY_SECURITYHUB": minSecHub.String(),
		"ROOTGUARD_FACTS_TTL":                "5m",
		"ROOTGUARD_ONBOARDING_WAIT":          "1s",
		"ROOTGUARD_LOG_LEVEL":                "info",
		"ROOTGUARD_CENTRAL_ACCOUNT":          centralAccount,
		"ROOTGUARD_FORWARD_REGIONS":          forwarderRegion,
		"ROOTGUARD_CENTRAL_BUS_ARN":          centralBusARN,
	}
	for k, v := range h.fake.Env() {
		env[k] = v
	}
	for k, v := range opts.env {
		env[k] = v
	}
	for k, v := range env {
		h.env = append(h.env, k+"="+v)
	}
	sort.Strings(h.env)
	h.notifier = startLambda(t, h.rie, function.Notifier, h.bins[function.Notifier], h.env)
	t.Cleanup(h.notifier.proc.stop)

	// The deployed audit runs on a schedule: its first run records the protection SCPs in the
	// state table, which scp-guard reads the state before a change from. Each sample starts from
	// the table as this run left it (see sample).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.runAudit(ctx, t)
	h.stopEvaluators()
	if h.seed, err = h.dyn.Items(ctx, stateTable); err != nil {
		t.Fatal(err)
	}
	for _, id := range h.protects {
		if !slices.ContainsFunc(h.seed, func(it map[string]ddbtypes.AttributeValue) bool {
			v, _ := it["id"].(*ddbtypes.AttributeValueMemberS)
			return v != nil && v.Value == awsorg.PolicyKeyPrefix+id
		}) {
			t.Fatalf("the first audit did not record protection SCP %s in the state table: %d items", id, len(h.seed))
		}
	}
	return h
}

// resetState makes the state table hold what the first audit left: the protection SCPs as in
// events/org.json, and no delivery record.
func (h *e2e) resetState(ctx context.Context, t testing.TB) {
	t.Helper()
	if err := h.dyn.Reset(ctx, stateTable, h.seed); err != nil {
		t.Fatal(err)
	}
}

func (h *e2e) origDoc(t testing.TB) org.SnapshotDoc {
	t.Helper()
	var doc org.SnapshotDoc
	if err := json.Unmarshal(h.orig, &doc); err != nil {
		t.Fatalf("events/org.json: %v", err)
	}
	return doc
}

// createTopic creates an SNS topic and an SQS queue subscribed to it (without raw delivery, so
// that the subject arrives too).
func (h *e2e) createTopic(t testing.TB, name string) topic {
	t.Helper()
	ctx := context.Background()
	out, err := h.snsAPI.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	qURL, qARN, err := h.sns.createQueue(name + "-queue")
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	tp := topic{arn: aws.ToString(out.TopicArn), queueURL: qURL, queueARN: qARN}
	if _, err := h.snsAPI.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qARN)}); err != nil {
		t.Fatalf("subscribe %s to %s: %v", qARN, name, err)
	}
	return tp
}

// sampleFiles lists every sample event file of a rule (paths relative to events/), in name
// order; the forged samples are not replayed as samples (forged).
func sampleFiles(t testing.TB) []string {
	t.Helper()
	samples, err := events.Rules()
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no sample events found")
	}
	var files []string
	for _, s := range samples {
		files = append(files, s.Path)
	}
	return files
}

// readEvents returns each event of a sample file (its path relative to events/) as the
// EventBridge event a function receives.
func readEvents(t testing.TB, path string) [][]byte {
	t.Helper()
	s, err := events.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events()
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// expectation is what a sample's file name promises.
type expectation struct {
	rule     string
	severity finding.Severity // 0 for none.
	none     bool
}

func expectationOf(t testing.TB, path string) expectation {
	t.Helper()
	ruleID := filepath.Base(filepath.Dir(path))
	head, _, _ := strings.Cut(filepath.Base(path), ".")
	if head == "none" {
		return expectation{rule: ruleID, none: true}
	}
	sev, err := finding.ParseSeverity(head)
	if err != nil {
		t.Fatalf("%s: file name: %v", path, err)
	}
	return expectation{rule: ruleID, severity: sev}
}

// evaluator returns the function's emulator for the current sample, starting it (cold) on first
// use: every sample runs against fresh processes, as it is meant to be replayed alone.
func (h *e2e) evaluator(t testing.TB, name string) *lambdaFn {
	if l := h.running[name]; l != nil {
		return l
	}
	l := startLambda(t, h.rie, name, h.bins[name], h.env)
	h.running[name] = l
	return l
}

func (h *e2e) stopEvaluators() {
	for name, l := range h.running {
		l.proc.stop()
		delete(h.running, name)
	}
}

func (h *e2e) logs() string {
	var b strings.Builder
	for _, name := range function.Names() {
		if l := h.running[name]; l != nil {
			fmt.Fprintf(&b, "--- %s ---\n%s\n", name, l.proc.out.String())
		}
	}
	return b.String()
}

// sample runs one sample file through the functions and checks every output.
func (h *e2e) sample(t *testing.T, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.stopEvaluators()
	defer func() {
		if t.Failed() {
			t.Logf("function logs:\n%s", h.logs())
		}
	}()
	want := expectationOf(t, path)
	events := readEvents(t, path)
	// The sample is replayed alone against events/org.json: the organization, and what rootguard
	// recorded of it, are as the first audit found them.
	if err := h.fake.Update(func(d *org.SnapshotDoc) { *d = h.origDoc(t) }); err != nil {
		t.Fatal(err)
	}
	h.resetState(ctx, t)
	busStart, hubStart := len(h.fake.Events()), len(h.fake.Findings())

	for i, raw := range events {
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
		// The change an event records has happened when the event arrives: the organization
		// the functions read shows it.
		h.apply(t, ev)
		for _, fn := range routing.FunctionsFor(handler.Fields(ev)) {
			if err := h.evaluator(t, fn).invoke(ctx, raw); err != nil {
				t.Fatalf("event %d (%s) through %s: %v", i+1, ev.EventName, fn, err)
			}
		}
	}
	if want.rule == "SCP-MISSING" {
		h.runAudit(ctx, t)
	}
	bus := h.fake.Events()[busStart:]
	findings := h.checkBus(t, bus)

	// The sample's promise.
	var got []string
	found := false
	for _, f := range findings {
		got = append(got, f.Rule+" "+f.Severity.String())
		if f.Rule == want.rule && (want.none || f.Severity == want.severity) {
			found = true
		}
	}
	switch {
	case want.none && found:
		t.Errorf("raised %s, the sample says it must not; findings: %v", want.rule, got)
	case !want.none && !found:
		t.Errorf("want %s %s; findings: %v", want.rule, want.severity, got)
	}

	// The notifier takes every finding from the bus, as the bus rule would hand it over.
	for i, e := range bus {
		if err := h.notifier.invoke(ctx, busEvent(e, i)); err != nil {
			t.Fatalf("notifier, finding %d: %v\n%s", i+1, err, h.notifier.proc.out.String())
		}
	}
	h.checkDeliveries(t, findings, h.fake.Findings()[hubStart:])
}

// apply changes the fake organization as the event did (the replay's overlay semantics).
func (h *e2e) apply(t testing.TB, ev *cloudtrail.Event) {
	t.Helper()
	err := h.fake.Update(func(d *org.SnapshotDoc) {
		snap, err := org.NewSnapshot(*d)
		if err != nil {
			t.Fatalf("fake organization: %v", err)
		}
		ov := org.NewOverlay(snap)
		ov.Apply(ev)
		o, _ := ov.Organization()
		accounts, _ := ov.Accounts()
		policies, _ := ov.Policies()
		known := map[string]bool{o.RootID: true}
		for _, ou := range d.OrganizationalUnits {
			known[ou.ID] = true
		}
		for _, a := range accounts {
			known[a.ID] = true
		}
		for i := range policies {
			policies[i].Targets = slices.DeleteFunc(policies[i].Targets, func(id string) bool { return !known[id] })
		}
		d.Organization, d.Accounts, d.Policies = o, accounts, policies
		applyTags(ov, d) // TagResource / UntagResource (custody_e2e_test.go)
	})
	if err != nil {
		t.Fatalf("apply %s to the fake organization: %v", ev.EventName, err)
	}
}

func (h *e2e) runAudit(ctx context.Context, t testing.TB) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("audit-%d", time.Now().UnixNano()), "detail-type": handler.ScheduledDetailType,
		"source": handler.ScheduledSource, "account": h.mgmt, "time": time.Now().UTC().Format(time.RFC3339),
		"region": "us-east-1", "resources": []string{"arn:aws:events:us-east-1:" + h.mgmt + ":rule/rootguard-audit"}, "detail": map[string]any{},
	})
	if err := h.evaluator(t, function.Audit).invoke(ctx, raw); err != nil {
		t.Fatalf("audit: %v", err)
	}
}

// checkBus checks the finding events on the bus and returns their findings.
func (h *e2e) checkBus(t testing.TB, bus []awsfake.Event) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for i, e := range bus {
		if e.Source != route.FindingSource || e.DetailType != route.FindingDetailType || e.EventBusName != busName {
			t.Errorf("bus event %d: source %q, detail-type %q, bus %q; want %q, %q, %q", i+1, e.Source, e.DetailType, e.EventBusName, route.FindingSource, route.FindingDetailType, busName)
		}
		var f finding.Finding
		if err := json.Unmarshal([]byte(e.Detail), &f); err != nil {
			t.Errorf("bus event %d: detail is not a finding: %v", i+1, err)
			continue
		}
		if f.ID == "" || f.Rule == "" || f.AccountID == "" && f.Rule != "SCP-MISSING" {
			t.Errorf("bus event %d: incomplete finding %+v", i+1, f)
		}
		out = append(out, f)
	}
	return out
}

// busEvent is the EventBridge event a bus rule hands the notifier for one finding event.
func busEvent(e awsfake.Event, i int) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("bus-%d-%d", e.Time.UnixNano(), i), "detail-type": e.DetailType, "source": e.Source,
		"account": e.Account, "time": e.Time.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": e.Resources,
		"detail": json.RawMessage(e.Detail),
	})
	return b
}

// checkDeliveries checks the emails, chat messages and Security Hub imports of the findings.
func (h *e2e) checkDeliveries(t testing.TB, findings []finding.Finding, imported [][]byte) {
	t.Helper()
	emails, err := h.sns.drain(h.alerts.queueURL)
	if err != nil {
		t.Fatalf("alerts queue: %v", err)
	}
	chats, err := h.sns.drain(h.chat.queueURL)
	if err != nil {
		t.Fatalf("chat queue: %v", err)
	}
	// A finding is delivered once per channel and severity (the state table's delivery
	// records): its repeats on the bus (a duplicate event) are not sent again; a root session's
	// finding once per growth of its write calls (deliveriesOf). Canary findings are sent to no
	// channel.
	var wantEmail, wantChat, wantHub []finding.Finding
	for _, f := range deliveriesOf(findings) {
		if f.Canary {
			continue
		}
		if f.Severity >= minEmail {
			wantEmail = append(wantEmail, f)
		}
		if f.Severity >= minChat {
			wantChat = append(wantChat, f)
		}
		if f.Severity >= minSecHub {
			wantHub = append(wantHub, f)
		}
	}

	// Email: one per finding, subject rules, body naming the account and the rule.
	if len(emails) != len(wantEmail) {
		t.Errorf("alerts topic: %d emails, want %d", len(emails), len(wantEmail))
	}
	for _, m := range emails {
		if msg := subjectProblem(m.Subject); msg != "" {
			t.Errorf("email subject %q: %s", m.Subject, msg)
		}
		if m.MessageAttributes["severity"]["Value"] == "" || m.MessageAttributes["rule"]["Value"] == "" {
			t.Errorf("email %q: message attributes %v lack severity or rule", m.Subject, m.MessageAttributes)
		}
	}
	for _, f := range wantEmail {
		i := slices.IndexFunc(emails, func(m snsEnvelope) bool {
			return strings.Contains(m.Message, f.ID) && m.MessageAttributes["severity"]["Value"] == f.Severity.String() &&
				strings.Contains(m.Subject, "RESOLVED") == (f.Status == finding.StatusResolved)
		})
		if i < 0 {
			t.Errorf("no email for finding %s (%s %s)", f.ID, f.Rule, f.Severity)
			continue
		}
		m := emails[i]
		for _, s := range []string{f.AccountID, f.Rule} {
			if !strings.Contains(m.Message, s) {
				t.Errorf("email for %s does not name %q:\n%s", f.ID, s, m.Message)
			}
		}
		if m.Subject != render.EmailSubject(f) {
			t.Errorf("email for %s: subject %q, want %q", f.ID, m.Subject, render.EmailSubject(f))
		}
		if got := m.MessageAttributes["severity"]["Value"]; got != f.Severity.String() {
			t.Errorf("email for %s: severity attribute %q, want %q", f.ID, got, f.Severity)
		}
	}

	// Chat: custom-notification JSON.
	if len(chats) != len(wantChat) {
		t.Errorf("chat topic: %d messages, want %d", len(chats), len(wantChat))
	}
	var chatIDs []string
	for _, m := range chats {
		var c struct {
			Version string `json:"version"`
			Source  string `json:"source"`
			ID      string `json:"id"`
			Content struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"content"`
		}
		if err := json.Unmarshal([]byte(m.Message), &c); err != nil {
			t.Errorf("chat message is not JSON: %v: %s", err, m.Message)
			continue
		}
		if c.Version != "1.0" || c.Source != "custom" || c.Content.Title == "" || c.Content.Description == "" {
			t.Errorf("chat message: version %q, source %q, title %q: want 1.0, custom and a title and description", c.Version, c.Source, c.Content.Title)
		}
		chatIDs = append(chatIDs, c.ID)
	}
	for _, f := range wantChat {
		want, _ := render.Chat(f)
		var w struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(want, &w)
		if !slices.Contains(chatIDs, w.ID) {
			t.Errorf("no chat message for finding %s (%s %s)", f.ID, f.Rule, f.Severity)
		}
	}

	// Security Hub: every finding at or above the minimum, owned by the calling account, naming
	// the affected account in Resources.
	if len(imported) != len(wantHub) {
		t.Errorf("Security Hub: %d findings imported, want %d", len(imported), len(wantHub))
	}
	byID := map[string]map[string]any{}
	for _, raw := range imported {
		var a map[string]any
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Errorf("imported finding is not JSON: %v", err)
			continue
		}
		id, _ := a["Id"].(string)
		sev, _ := a["Severity"].(map[string]any)
		label, _ := sev["Label"].(string)
		state, _ := a["RecordState"].(string)
		byID[id+" "+label+" "+state] = a
	}
	caller := h.fake.CallerAccount()
	for _, f := range wantHub {
		a, ok := byID[f.ID+" "+f.Severity.String()+" "+recordState(f)]
		if !ok {
			t.Errorf("Security Hub did not receive finding %s (%s %s)", f.ID, f.Rule, f.Severity)
			continue
		}
		if a["AwsAccountId"] != caller {
			t.Errorf("finding %s: AwsAccountId %v, want the calling account %s", f.ID, a["AwsAccountId"], caller)
		}
		if sev, _ := a["Severity"].(map[string]any); sev["Label"] != f.Severity.String() {
			t.Errorf("finding %s: severity %v, want %s", f.ID, sev, f.Severity)
		}
		if org.IsAccountID(f.AccountID) {
			res, _ := a["Resources"].([]any)
			named := slices.ContainsFunc(res, func(r any) bool {
				m, _ := r.(map[string]any)
				return m["Id"] == "AWS::::Account:"+f.AccountID
			})
			if !named {
				t.Errorf("finding %s: Resources %v do not name account %s", f.ID, res, f.AccountID)
			}
		}
	}
}

// subjectProblem checks the SNS subject rules: printable ASCII, one line, 1 to 100 characters.
func subjectProblem(s string) string {
	switch {
	case s == "":
		return "empty"
	case len(s) > 100:
		return fmt.Sprintf("%d characters, more than 100", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return fmt.Sprintf("character %q is not printable ASCII", r)
		}
	}
	return ""
}

// failClosed: with Organizations refusing every read, a root sign-in to a customer account is
// still raised, with ownership unknown and the strictest severity.
func (h *e2e) failClosed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.stopEvaluators()
	defer func() {
		if t.Failed() {
			t.Logf("function logs:\n%s", h.logs())
		}
	}()
	h.fake.Fail(awsfake.Organizations, "DescribeAccount", awsfake.APIError{Status: 400, Code: "AccessDeniedException", Message: "not authorized (injected)"}, -1)
	h.fake.Fail(awsfake.Organizations, "ListRoots", awsfake.APIError{Status: 500, Code: "ServiceException", Message: "injected"}, -1)
	defer h.fake.ClearFaults()
	events := readEvents(t, "ROOT-SIGNIN-NO-MFA/HIGH.customer-root-login-without-mfa.json")
	busStart := len(h.fake.Events())
	if err := h.evaluator(t, function.RootActivity).invoke(ctx, events[0]); err != nil {
		t.Fatalf("root-activity: %v", err)
	}
	findings := h.checkBus(t, h.fake.Events()[busStart:])
	if len(findings) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(findings), findings)
	}
	f := findings[0]
	if f.Rule != "ROOT-SIGNIN-STAX-MEMBER" || f.Severity != finding.Critical || f.Ownership != finding.Unknown {
		t.Errorf("got %s %s ownership %s; want ROOT-SIGNIN-STAX-MEMBER CRITICAL with ownership unknown (fail closed)", f.Rule, f.Severity, f.Ownership)
	}
}

// canary: a synthetic heartbeat event's finding is counted by the notifier and reaches no channel.
func (h *e2e) canary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.stopEvaluators()
	raw := readEvents(t, "ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json")[0]
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	add, _ := detail["additionalEventData"].(map[string]any)
	if add == nil {
		add = map[string]any{}
	}
	add["rootguardCanary"] = "true"
	detail["additionalEventData"] = add
	detail["eventID"] = "canary-e2e-0001"
	ev["source"] = route.CanarySource
	raw, _ = json.Marshal(ev)
	busStart, hubStart := len(h.fake.Events()), len(h.fake.Findings())
	if err := h.evaluator(t, function.RootActivity).invoke(ctx, raw); err != nil {
		t.Fatalf("root-activity: %v", err)
	}
	bus := h.fake.Events()[busStart:]
	findings := h.checkBus(t, bus)
	if len(findings) != 1 || !findings[0].Canary {
		t.Fatalf("want one canary finding, got %+v", findings)
	}
	for i, e := range bus {
		if err := h.notifier.invoke(ctx, busEvent(e, i)); err != nil {
			t.Fatalf("notifier: %v", err)
		}
	}
	h.checkDeliveries(t, findings, h.fake.Findings()[hubStart:])
}

// undeliverable: a Security Hub that fails and a deleted SNS topic each make the notifier
// invocation fail with an error naming the channel; once repaired, the retry delivers only the
// channel that failed (the state table records the others as delivered).
func (h *e2e) undeliverable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cases := []struct {
		name    string
		channel string
		break_  func(t *testing.T)
		repair  func(t *testing.T)
	}{
		{
			name: "security hub failing", channel: "securityhub",
			break_: func(*testing.T) {
				h.fake.Fail(awsfake.SecurityHub, "BatchImportFindings", awsfake.APIError{Status: 500, Code: "InternalException", Message: "injected"}, -1)
			},
			repair: func(*testing.T) { h.fake.ClearFaults() },
		},
		{
			name: "security hub partial failure", channel: "securityhub",
			break_: func(*testing.T) { h.fake.FailFindings(1) },
			repair: func(*testing.T) { h.fake.ClearFaults() },
		},
		{
			name: "alerts topic deleted", channel: "alerts",
			break_: func(t *testing.T) {
				if _, err := h.snsAPI.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(h.alerts.arn)}); err != nil {
					t.Fatalf("delete topic: %v", err)
				}
			},
			repair: func(t *testing.T) { h.alerts = h.createTopic(t, "rootguard-alerts") },
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := e2eFinding(fmt.Sprintf("root-signin-e2e-undeliverable-%d", i))
			ev := busEvent(awsfake.Event{Source: route.FindingSource, DetailType: route.FindingDetailType, Detail: string(f.JSON()), Time: time.Now(), Account: h.mgmt}, i)
			_, _ = h.sns.drain(h.alerts.queueURL)
			_, _ = h.sns.drain(h.chat.queueURL)
			hubStart := len(h.fake.Findings())
			c.break_(t)
			err := h.notifier.invoke(ctx, ev)
			c.repair(t)
			var fe *invocationError
			if !errors.As(err, &fe) {
				t.Fatalf("notifier returned %v, want a function error", err)
			}
			if !strings.Contains(fe.Message, "deliver to "+c.channel) {
				t.Errorf("error %q does not name the channel %s", fe.Message, c.channel)
			}
			// Lambda retries the failed invocation: only the failed channel is sent again.
			if err := h.notifier.invoke(ctx, ev); err != nil {
				t.Fatalf("retry after repair: %v", err)
			}
			h.checkOnce(t, f, h.fake.Findings()[hubStart:])
		})
	}
}

// duplicates: the same finding event handed to the notifier three times (EventBridge delivers at
// least once) reaches each channel once.
func (h *e2e) duplicates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _ = h.sns.drain(h.alerts.queueURL)
	_, _ = h.sns.drain(h.chat.queueURL)
	hubStart := len(h.fake.Findings())
	f := e2eFinding("root-signin-e2e-duplicate")
	for i := range 3 {
		ev := busEvent(awsfake.Event{Source: route.FindingSource, DetailType: route.FindingDetailType, Detail: string(f.JSON()), Time: time.Now(), Account: h.mgmt}, i)
		if err := h.notifier.invoke(ctx, ev); err != nil {
			t.Fatalf("notifier, copy %d: %v", i+1, err)
		}
	}
	h.checkOnce(t, f, h.fake.Findings()[hubStart:])
	n := 0
	for _, l := range strings.Split(h.notifier.proc.out.String(), "\n") {
		if strings.Contains(l, `"msg":"not sent: already delivered"`) && strings.Contains(l, `"findingId":"`+f.ID+`"`) {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d 'already delivered' log lines, want 6 (3 channels, 2 copies)", n)
	}
}

func e2eFinding(id string) finding.Finding {
	return finding.Finding{
		ID: id, Rule: "ROOT-SIGNIN", Severity: finding.High, AccountID: "333333333333",
		AccountName: "acme-web-prod", Ownership: finding.CustomerOwned, AccountRole: finding.Member,
		Title: "Root sign-in", Description: "A root sign-in.", Remediation: "Confirm it.", EventID: "e2e-" + id,
		EventName: "ConsoleLogin", EventTime: "2026-11-20T10:00:00Z", Region: "us-east-1", Actor: "Root",
	}
}

// checkOnce checks that a finding reached every channel exactly once: one email, one chat
// message (the queues are drained), one Security Hub import among imported.
func (h *e2e) checkOnce(t *testing.T, f finding.Finding, imported [][]byte) {
	t.Helper()
	emails, err := h.sns.drain(h.alerts.queueURL)
	if err != nil {
		t.Fatal(err)
	}
	chats, err := h.sns.drain(h.chat.queueURL)
	if err != nil {
		t.Fatal(err)
	}
	count := func(ms []snsEnvelope) int {
		n := 0
		for _, m := range ms {
			if strings.Contains(m.Message, f.ID) {
				n++
			}
		}
		return n
	}
	hub := 0
	for _, raw := range imported {
		var a struct{ Id string }
		if json.Unmarshal(raw, &a) == nil && a.Id == f.ID {
			hub++
		}
	}
	if got := [3]int{count(emails), count(chats), hub}; got != [3]int{1, 1, 1} {
		t.Errorf("finding %s delivered %d times by email, %d to chat, %d to Security Hub; want once each", f.ID, got[0], got[1], got[2])
	}
}
