package infra

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/infra/eventpattern"
	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

// sampleFile is one file under events/ and the EventBridge events it holds.
type sampleFile struct {
	Path   string // relative to events/
	Folder string // the rule id
	None   bool   // none.<slug>: the file must not raise its folder's rule
	Events []map[string]any
}

// detailTypes are the detail-types CloudTrail records arrive under on EventBridge, by eventType.
var detailTypes = map[string]string{
	"AwsApiCall":       "AWS API Call via CloudTrail",
	"AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
	"AwsServiceEvent":  "AWS Service Event via CloudTrail",
	"AwsConsoleAction": "AWS Console Action via CloudTrail",
}

// envelope wraps a bare CloudTrail record (from a CloudTrail log file) the way EventBridge
// delivers it in the account and region that recorded it.
func envelope(rec map[string]any) (map[string]any, error) {
	src, _ := rec["eventSource"].(string)
	typ, _ := rec["eventType"].(string)
	dt, ok := detailTypes[typ]
	if !strings.HasSuffix(src, ".amazonaws.com") || !ok {
		return nil, fmt.Errorf("CloudTrail record with eventSource %q eventType %q: no EventBridge envelope for it", src, typ)
	}
	return map[string]any{
		"version": "0", "id": rec["eventID"], "detail-type": dt,
		"source":  "aws." + strings.TrimSuffix(src, ".amazonaws.com"),
		"account": rec["recipientAccountId"], "time": rec["eventTime"], "region": rec["awsRegion"],
		"resources": []any{}, "detail": rec,
	}, nil
}

// loadSamples reads every sample under events/: one event, a JSON array of events, JSON Lines,
// or a CloudTrail log file ({"Records": [...]}), optionally gzipped. The organization snapshot
// and the README are not samples.
func loadSamples(t *testing.T) []sampleFile {
	t.Helper()
	root := filepath.Join("..", "events")
	var out []sampleFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".jsonl") {
			return nil // README.md and other documentation
		}
		data, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(d.Name(), ".gz") {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
				data, err = io.ReadAll(zr)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		events, snapshot, err := decodeSample(data)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if snapshot {
			return nil
		}
		dir := filepath.Dir(rel)
		if dir == "." || strings.Contains(dir, string(filepath.Separator)) {
			return fmt.Errorf("%s: samples live in events/<RULE-ID>/", rel)
		}
		out = append(out, sampleFile{Path: rel, Folder: dir, None: strings.HasPrefix(d.Name(), "none."), Events: events})
		return nil
	})
	if err != nil {
		t.Fatalf("read the samples: %v", err)
	}
	return out
}

// decodeSample decodes a sample's JSON values; snapshot reports an organization snapshot.
func decodeSample(data []byte) (events []map[string]any, snapshot bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for i := 0; ; i++ {
		var v any
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, false, fmt.Errorf("value %d: %w", i, err)
		}
		var list []any
		switch t := v.(type) {
		case []any:
			list = t
		case map[string]any:
			if _, ok := t["organization"]; ok && i == 0 {
				return nil, true, nil
			}
			if recs, ok := t["Records"].([]any); ok {
				for j, r := range recs {
					rec, _ := r.(map[string]any)
					e, err := envelope(rec)
					if err != nil {
						return nil, false, fmt.Errorf("record %d: %w", j, err)
					}
					events = append(events, e)
				}
				continue
			}
			list = []any{t}
		default:
			return nil, false, fmt.Errorf("value %d is not an event", i)
		}
		for j, e := range list {
			m, ok := e.(map[string]any)
			_, hasDetail := m["detail"].(map[string]any)
			if !ok || m["source"] == nil || m["detail-type"] == nil || !hasDetail {
				return nil, false, fmt.Errorf("value %d item %d is not an EventBridge event (source, detail-type, detail)", i, j)
			}
			events = append(events, normalizeNumbers(m).(map[string]any))
		}
	}
	if len(events) == 0 {
		return nil, false, errors.New("no event")
	}
	return events, false, nil
}

// normalizeNumbers turns json.Number into float64, as the matcher compares numbers.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
	}
	return v
}

// mustHandle is the test's oracle: which functions must receive an event, written from the rule
// catalogue (rules.md) and the AWS facts, independently of the routing table.
func mustHandle(ev map[string]any) []string {
	str := func(path ...any) string { s, _ := get(ev, path...).(string); return s }
	source, name, kind := str("detail", "eventSource"), str("detail", "eventName"), str("detail", "eventType")
	root := str("detail", "userIdentity", "type") == "Root"
	var out []string
	switch {
	// ROOT-SESSION: the sts:AssumeRoot call (made by an ordinary principal).
	case source == "sts.amazonaws.com" && name == "AssumeRoot":
		out = append(out, route.RootActivity)
	// ROOT-SIGNIN*, ROOT-PASSWORD-RECOVERY: root console sign-in and password recovery. Other
	// sign-in events (CheckMfa, SwitchRole, ...) raise nothing and are not routed.
	case source == "signin.amazonaws.com" && kind == "AwsConsoleSignIn":
		if root && slices.Contains([]string{"ConsoleLogin", "PasswordRecoveryRequested", "PasswordRecoveryCompleted", "PasswordUpdated"}, name) {
			out = append(out, route.RootActivity)
		}
	// Every other root API call or console action, read-only ones included (reconnaissance).
	// Service events made "as root" are not human root activity. Calls invokedBy a service and
	// actions inside centralised root sessions reach root-activity, which classifies them.
	case root && (kind == "AwsApiCall" || kind == "AwsConsoleAction"):
		out = append(out, route.RootActivity)
	case source == "account.amazonaws.com" && kind == "AwsApiCall" && slices.Contains([]string{"StartPrimaryEmailUpdate", "AcceptPrimaryEmailUpdate"}, name):
		out = append(out, route.RootActivity) // root email changes, by whoever makes them
	}
	// SCP-*, ACCOUNT-LEFT-ORG: the Organizations calls that weaken protection, whoever made them,
	// failed attempts included (an attempt against the protection is MEDIUM).
	if source == "organizations.amazonaws.com" && kind == "AwsApiCall" && slices.Contains([]string{
		"DetachPolicy", "DeletePolicy", "UpdatePolicy", "DisablePolicyType", "MoveAccount",
		"RemoveAccountFromOrganization", "LeaveOrganization",
		"CreatePolicy", "AttachPolicy", "EnablePolicyType",
	}, name) {
		out = append(out, route.SCPGuard)
	}
	// ROOT-CENTRAL-ACCESS-DISABLED and TRAIL-TAMPERED: IAM turning centralised root access off,
	// and the CloudTrail calls that can blind every rule, whoever made them.
	if (source == "iam.amazonaws.com" && kind == "AwsApiCall" && slices.Contains([]string{
		"DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions",
	}, name)) || (source == "cloudtrail.amazonaws.com" && kind == "AwsApiCall" && slices.Contains([]string{
		"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors",
	}, name)) {
		out = append(out, route.SCPGuard)
	}
	// FORWARDER-TAMPERED: changes to rootguard's own resources (whichever resource they name:
	// event patterns cannot test the name; the rule does).
	if forwarderChange(source, name, kind) {
		out = append(out, route.SCPGuard)
	}
	// ONBOARD-*, POSTURE-* at onboarding: an account was created or joined.
	if (source == "organizations.amazonaws.com" && kind == "AwsServiceEvent" && name == "CreateAccountResult") ||
		(source == "controltower.amazonaws.com" && kind == "AwsServiceEvent" && name == "CreateManagedAccount") ||
		(source == "organizations.amazonaws.com" && kind == "AwsApiCall" && name == "AcceptHandshake") {
		out = append(out, route.Onboarding)
	}
	// EXCEPTION-GRANTED: Organizations tag changes, whoever made them (scp-guard records grants).
	if source == "organizations.amazonaws.com" && kind == "AwsApiCall" && (name == "TagResource" || name == "UntagResource") {
		out = append(out, route.SCPGuard)
	}
	// TRUSTED-PRINCIPAL-CHANGED: the IAM calls that can change a role or user, whoever made them
	// and to whichever principal (scp-guard compares with the configured ARNs).
	if source == "iam.amazonaws.com" && kind == "AwsApiCall" && slices.Contains(trustIAMCalls, name) {
		out = append(out, route.SCPGuard)
	}
	// Organization facts: every function that caches them takes the events whose change
	// (org.ChangeOf) drops them (awsorg.Facts.Invalidate), whoever made them, failed ones too.
	if changesCachedFacts(source, name, kind) {
		out = append(out, route.RootActivity, route.SCPGuard, route.Onboarding)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// changesCachedFacts reports whether an event of this source, name and CloudTrail event type is
// one whose change the functions' cached organization facts drop.
func changesCachedFacts(source, name, kind string) bool {
	if kind != "AwsApiCall" && kind != "AwsServiceEvent" {
		return false
	}
	return slices.ContainsFunc(org.ChangeEvents(), func(ce org.ChangeEvent) bool {
		return ce.EventSource == source && ce.EventName == name && awsorg.Invalidates(ce.Kind)
	})
}

// trustIAMCalls are the IAM calls of TRUSTED-PRINCIPAL-CHANGED (rules.md).
var trustIAMCalls = []string{"UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
	"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateRole", "DeleteRole", "CreateRole",
	"AttachUserPolicy", "PutUserPolicy", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"}

// folderOwners are the functions that raise a folder's rule: one of them must receive some event
// of each sample that raises it.
func folderOwners(folder string) ([]string, error) {
	switch {
	case folder == "ROOT-CENTRAL-ACCESS-DISABLED", folder == "TRAIL-TAMPERED": // IAM and CloudTrail calls
		return []string{route.SCPGuard}, nil
	case strings.HasPrefix(folder, "ROOT-"):
		return []string{route.RootActivity}, nil
	case folder == "SCP-NOT-EFFECTIVE": // after MoveAccount, and at onboarding
		return []string{route.SCPGuard, route.Onboarding}, nil
	case folder == "SCP-MISSING": // audit-only rule; its samples are the changes the audit then sees
		return []string{route.SCPGuard}, nil
	case strings.HasPrefix(folder, "SCP-"), folder == "ACCOUNT-LEFT-ORG":
		return []string{route.SCPGuard}, nil
	case strings.HasPrefix(folder, "ONBOARD-"), strings.HasPrefix(folder, "POSTURE-"):
		return []string{route.Onboarding}, nil
	case folder == forgedFolder: // events AWS did not write: checkForged
		return nil, nil
	case folder == "FORWARDER-TAMPERED", folder == "EXCEPTION-GRANTED", folder == "TRUSTED-PRINCIPAL-CHANGED": // custody rules in scp-guard
		return []string{route.SCPGuard}, nil
	}
	return nil, fmt.Errorf("folder %s: no owning function known to this test", folder)
}

// noneMayReach documents, per folder, which functions its none. samples may legitimately reach
// (they discard them in code): root calls that are not human root activity (invokedBy a service,
// centralised root sessions, a key created for an IAM user) reach root-activity; changes of
// other policies or policy types reach scp-guard; unfinished or compliant account creations reach
// onboarding; sign-ins of IAM users, CheckMfa, SwitchRole, AssumeRole reach nothing. A root
// caller adds root-activity anywhere.
func noneMayReach(folder string, ev map[string]any) []string {
	owners, _ := folderOwners(folder)
	if get(ev, "detail", "userIdentity", "type") == "Root" {
		owners = append(owners, route.RootActivity)
	}
	str := func(path ...any) string { s, _ := get(ev, path...).(string); return s }
	if changesCachedFacts(str("detail", "eventSource"), str("detail", "eventName"), str("detail", "eventType")) {
		owners = append(owners, route.RootActivity, route.SCPGuard, route.Onboarding) // to drop cached facts
	}
	if name, _ := get(ev, "detail", "eventName").(string); get(ev, "detail", "eventSource") == "iam.amazonaws.com" && slices.Contains(trustIAMCalls, name) {
		owners = append(owners, route.SCPGuard) // it may change a trusted principal: scp-guard looks
	}
	return owners
}

type compiledRule struct {
	function string
	pattern  map[string]any
}

// busRules returns the synthesized rules of a template that carry an event pattern, each with the
// function it feeds (central) or the route it forwards (forwarders, by construct id).
func busRules(t *testing.T, tpl map[string]any, fnIDs map[string]string) []compiledRule {
	t.Helper()
	var out []compiledRule
	for _, r := range resourcesOf(tpl, "AWS::Events::Rule") {
		if r.Props["EventPattern"] == nil {
			continue
		}
		b, _ := json.Marshal(r.Props["EventPattern"])
		p, err := eventpattern.Parse(b)
		if err != nil {
			t.Fatalf("rule %s: %v", r.ID, err)
		}
		fn := ""
		for name, id := range fnIDs {
			if ref(get(r.Props, "Targets", 0, "Arn")) == id {
				fn = name
			}
		}
		if fnIDs == nil {
			fn = r.ID
		}
		out = append(out, compiledRule{function: fn, pattern: p})
	}
	return out
}

func matching(rules []compiledRule, ev map[string]any) []string {
	var out []string
	for _, r := range rules {
		if eventpattern.Match(r.pattern, ev) {
			out = append(out, r.function)
		}
	}
	slices.Sort(out)
	return out
}

// TestSamplesReachExactlyTheirFunctions evaluates every sample event against the synthesized
// patterns: on the central bus it must match exactly the functions that must handle it, and where
// it is recorded (the management account or a member account, in its region) a forwarder must
// send it to the central bus.
func TestSamplesReachExactlyTheirFunctions(t *testing.T) {
	s := synth(t, auditRole)
	org := loadSampleOrg(t)
	central := busRules(t, s.central(), functionIDs(t, s.central()))
	var orgRules []compiledRule
	for _, r := range central {
		if r.function != route.Notifier {
			orgRules = append(orgRules, r)
		}
	}
	if len(orgRules) != len(route.Table) {
		t.Fatalf("%d central rules with patterns, want %d", len(orgRules), len(route.Table))
	}
	member := busRules(t, s.member(), nil)
	management := map[string][]compiledRule{}
	for _, region := range s.cfg.ForwardRegions {
		management[region] = busRules(t, s.management(region), nil)
	}

	files := loadSamples(t)
	if len(files) == 0 {
		t.Fatal("no sample event under events/")
	}
	events, reached := 0, map[string]int{}
	for _, f := range files {
		t.Run(f.Path, func(t *testing.T) {
			owners, err := folderOwners(f.Folder)
			if err != nil {
				t.Fatal(err)
			}
			var union []string
			for i, ev := range f.Events {
				events++
				want := mustHandle(ev)
				got := matching(orgRules, ev)
				union = append(union, got...)
				for _, fn := range got {
					reached[fn]++
				}
				at := fmt.Sprintf("event %d (%v %v by %v)", i, get(ev, "detail", "eventSource"), get(ev, "detail", "eventName"), get(ev, "detail", "userIdentity", "type"))
				if f.Folder == forgedFolder {
					checkForged(t, at, ev, got)
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s reaches %v on the central bus, want exactly %v", at, got, want)
				}
				if f.None {
					for _, fn := range got {
						if !slices.Contains(noneMayReach(f.Folder, ev), fn) {
							t.Errorf("%s: a none. sample of %s reaches %s", at, f.Folder, fn)
						}
					}
				}
				if len(want) == 0 {
					continue
				}
				account, _ := ev["account"].(string)
				region, _ := ev["region"].(string)
				var forwarders []compiledRule
				where := "member account " + account
				if account == org.Organization.ManagementAccountID {
					where = "management account"
					forwarders = management[region]
				} else if slices.Contains(s.cfg.ForwardRegions, region) {
					forwarders = member
				}
				if forwarders == nil {
					t.Errorf("%s is recorded in %s of the %s, where nothing forwards (regions %v)", at, region, where, s.cfg.ForwardRegions)
				} else if len(matching(forwarders, ev)) == 0 {
					t.Errorf("%s is recorded in %s of the %s, and no forwarding rule there sends it to the central bus", at, region, where)
				}
			}
			if !f.None && !slices.ContainsFunc(owners, func(o string) bool { return slices.Contains(union, o) }) {
				t.Errorf("raises %s, but none of its events reaches %v", f.Folder, owners)
			}
		})
	}
	t.Logf("%d sample files, %d events; events reaching each function: %v", len(files), events, reached)
	for _, r := range route.Table {
		if r.Function == route.Heartbeat {
			continue // its own round-trip event only (TestRoundTripReachesOnlyTheHeartbeat)
		}
		if reached[r.Function] == 0 {
			t.Errorf("no sample reaches %s", r.Function)
		}
	}
}

// TestSampleEnvelope checks the CloudTrail-record wrapping the sample walk relies on.
func TestSampleEnvelope(t *testing.T) {
	rec := map[string]any{
		"eventSource": "signin.amazonaws.com", "eventType": "AwsConsoleSignIn", "eventName": "ConsoleLogin",
		"recipientAccountId": "444455556666", "awsRegion": "us-east-1", "eventID": "e1", "eventTime": "2026-11-01T00:00:00Z",
	}
	ev, err := envelope(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"source": "aws.signin", "detail-type": "AWS Console Sign In via CloudTrail", "account": "444455556666", "region": "us-east-1"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if _, err := envelope(map[string]any{"eventSource": "signin.amazonaws.com", "eventType": "Unknown"}); err == nil {
		t.Error("a record of an unknown eventType was wrapped")
	}
	if _, _, err := decodeSample([]byte(`{"hello": "world"}`)); err == nil {
		t.Error("a JSON object that is not an event was accepted")
	}
	evs, _, err := decodeSample([]byte("{\"source\":\"a\",\"detail-type\":\"b\",\"detail\":{}}\n{\"source\":\"c\",\"detail-type\":\"d\",\"detail\":{}}\n"))
	if err != nil || len(evs) != 2 {
		t.Errorf("JSON Lines: %d events, %v", len(evs), err)
	}
}
