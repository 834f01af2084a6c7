package rule

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// guardContent is a root-guarding protection SCP: every action denied to any account's root.
const guardContent = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`

// decoyContent allows everything (a policy named Stax-Protection-2 that restricts nothing).
const decoyContent = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// regionContent blocks regions, not root (stax-protection-unsupported-region).
const regionContent = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyUnsupportedRegions","Effect":"Deny","NotAction":["iam:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`

// custodyOrg: root r-1 with Foundation (its own root-guarding protection), Workloads (a
// customer's member) and an empty Quarantine; rootPolicies are attached at the root.
func custodyOrg(t testing.TB, rootPolicies ...string) *org.Snapshot {
	t.Helper()
	target := func(id string) []string {
		if slices.Contains(rootPolicies, id) {
			return []string{"r-1"}
		}
		return nil
	}
	doc := org.SnapshotDoc{
		Organization: org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: ptr(true),
			Features: []string{org.FeatureRootCredentialsManagement, org.FeatureRootSessions},
			Trails:   []org.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:100000000000:trail/org", Organization: ptr(true), MultiRegion: ptr(true), Logging: ptr(true), ManagementEvents: ptr(true)}}},
		OrganizationalUnits: []org.OU{
			{ID: "ou-1-found", Name: "Foundation", ParentID: "r-1"},
			{ID: "ou-1-work", Name: "Workloads", ParentID: "r-1"},
			{ID: "ou-1-quar", Name: "Quarantine", ParentID: "r-1"},
		},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "mgmt", Email: ptr("m@stax.example"), ParentID: "r-1"},
			{ID: "200000000000", Name: "security", Email: ptr("s@stax.example"), ParentID: "ou-1-found"},
			{ID: "300000000000", Name: "customer", Email: ptr("c@customer.example"), ParentID: "ou-1-work"},
		},
		Policies: []org.Policy{
			{ID: "p-full", Name: "FullAWSAccess", Type: org.PolicyTypeSCP, AWSManaged: true, Content: ptr(decoyContent), Targets: []string{"r-1"}},
			{ID: "p-guard", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Content: ptr(guardContent), Targets: target("p-guard")},
			{ID: "p-decoy", Name: "Stax-Protection-2", Type: org.PolicyTypeSCP, Content: ptr(decoyContent), Targets: target("p-decoy")},
			{ID: "p-region", Name: "stax-protection-unsupported-region", Type: org.PolicyTypeSCP, Content: ptr(regionContent), Targets: target("p-region")},
			{ID: "p-unread", Name: "Stax-Protection-unreadable", Type: org.PolicyTypeSCP, Content: ptr(`{"Statement": [`), Targets: target("p-unread")},
			{ID: "p-nocontent", Name: "Stax-Protection-unknown", Type: org.PolicyTypeSCP, Targets: target("p-nocontent")},
			{ID: "p-found", Name: "stax-protection-foundation", Type: org.PolicyTypeSCP, Content: ptr(guardContent), Targets: []string{"ou-1-found"}},
			{ID: "p-other", Name: "customer-policy", Type: org.PolicyTypeSCP, Content: ptr(decoyContent)},
		},
	}
	s, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mgmtEvent is an event recorded in the management account by an ordinary principal.
func mgmtEvent(source, name string, params, resp map[string]any) *cloudtrail.Event {
	raw := func(m map[string]any) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			b, _ := json.Marshal(v)
			out[k] = b
		}
		return out
	}
	return &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: source, EventName: name, EventID: "ev-" + name, EventTime: "2026-11-20T10:00:00Z",
		RecipientAccountID: "100000000000", SourceIPAddress: "192.0.2.10", AWSRegion: "us-east-1",
		UserIdentity:      &cloudtrail.UserIdentity{Type: "AssumedRole", ARN: "arn:aws:sts::100000000000:assumed-role/admin/mallory", AccountID: "100000000000"},
		RequestParameters: raw(params), ResponseElements: raw(resp),
	}}
}

func failed(ev *cloudtrail.Event) *cloudtrail.Event {
	ev.ErrorCode = "AccessDenied"
	return ev
}

// rulesOf returns "RULE/SEVERITY" for each finding of the given rule.
func rulesOf(fs []finding.Finding, id string) []string {
	var out []string
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f.Rule+"/"+f.Severity.String())
		}
	}
	return out
}

func TestEffectivenessByContent(t *testing.T) {
	cfg, _ := Config{StaxDomains: []string{"stax.example"}}.normalized()
	for _, tc := range []struct {
		name    string
		root    []string
		account string
		want    Effect
		reason  string
	}{
		{"root-guarding protection at the root", []string{"p-guard"}, "300000000000", Effective, "root-guarding protection SCP Stax-Protection"},
		{"decoy allowing everything", []string{"p-decoy"}, "300000000000", NotEffective, "Stax-Protection-2 (p-decoy) on r-1 (its content has no Deny aimed at the root user of 300000000000)"},
		{"region-only protection", []string{"p-region"}, "300000000000", NotEffective, "stax-protection-unsupported-region (p-region)"},
		{"unreadable content", []string{"p-unread"}, "300000000000", NotEffective, "could not be read"},
		{"unknown content", []string{"p-nocontent"}, "300000000000", NotEffective, "content is unknown"},
		{"decoys beside the guard", []string{"p-decoy", "p-region", "p-guard"}, "300000000000", Effective, "Stax-Protection (p-guard)"},
		{"foundation keeps its own", []string{"p-decoy"}, "200000000000", Effective, "stax-protection-foundation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := protectionState(custodyOrg(t, tc.root...), &cfg, tc.account, "")
			if got != tc.want || !strings.Contains(why, tc.reason) {
				t.Errorf("protection = %v (%s), want %v with %q", got, why, tc.want, tc.reason)
			}
		})
	}
}

// rootCallIn is a root API call recorded in a member account.
func rootCallIn(account string) *cloudtrail.Event {
	return &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: cloudtrail.SourceIAM, EventName: "CreateUser", EventID: "root-call-" + account, EventTime: "2026-11-20T11:00:00Z",
		RecipientAccountID: account, SourceIPAddress: "203.0.113.9",
		UserIdentity:      &cloudtrail.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + account + ":root", AccountID: account, AccessKeyID: "ASIAEXAMPLE"},
		RequestParameters: map[string]json.RawMessage{"userName": json.RawMessage(`"backdoor"`)},
	}}
}

// The attack: decoys named like protection must not make a root call in a customer member look
// restricted once the root-guarding SCP is gone.
func TestRootCallJudgedByContent(t *testing.T) {
	eng := mustEngine(t)
	for _, tc := range []struct {
		name string
		root []string
		want string
	}{
		{"guard attached", []string{"p-guard", "p-region"}, "ROOT-ACTIVITY/MEDIUM"},
		{"only decoys left", []string{"p-decoy", "p-region"}, "ROOT-UNRESTRICTED-ACTION/HIGH"},
		{"only unreadable left", []string{"p-unread"}, "ROOT-UNRESTRICTED-ACTION/HIGH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(rootCallIn("300000000000"), custodyOrg(t, tc.root...))
			if len(fs) != 1 || fs[0].Rule+"/"+fs[0].Severity.String() != tc.want {
				t.Fatalf("got %+v, want %s", fs, tc.want)
			}
		})
	}
}

func TestMissingWhenOnlyDecoys(t *testing.T) {
	eng := mustEngine(t)
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	doc := custodyOrg(t, "p-decoy", "p-region", "p-unread").Doc()
	doc.Policies = slices.DeleteFunc(doc.Policies, func(p org.Policy) bool { return p.ID == "p-found" })
	decoysOnly, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := eng.Audit(decoysOnly, at)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.Rule == "SCP-MISSING" })
	if i < 0 || fs[i].Severity != finding.Critical {
		t.Fatalf("want SCP-MISSING CRITICAL, got %v", rulesOf(fs, "SCP-MISSING"))
	}
	for _, want := range []string{"Stax-Protection-2 (p-decoy) (its content has no Deny aimed at root)", "stax-protection-unsupported-region (p-region)", "p-unread", "could not be read", "Stax-Protection-unknown (p-nocontent) (attached nowhere)"} {
		if !strings.Contains(fs[i].Description, want) {
			t.Errorf("SCP-MISSING description lacks %q: %s", want, fs[i].Description)
		}
	}
	// With the guard attached the organization is protected; the member under the root only
	// with decoys is not: SCP-NOT-EFFECTIVE names the decoys.
	fs, _ = eng.Audit(custodyOrg(t, "p-guard", "p-decoy"), at)
	if got := rulesOf(fs, "SCP-MISSING"); len(got) != 0 {
		t.Errorf("guard attached: %v", got)
	}
	if got := rulesOf(fs, "SCP-NOT-EFFECTIVE"); len(got) != 0 {
		t.Errorf("guard attached: %v", got)
	}
	fs, _ = eng.Audit(custodyOrg(t, "p-decoy"), at)
	if got := rulesOf(fs, "SCP-NOT-EFFECTIVE"); !slices.Equal(got, []string{"SCP-NOT-EFFECTIVE/HIGH"}) {
		t.Errorf("only a decoy at the root: %v (the Foundation member keeps its own protection)", got)
	}
}

func moveEvent(account, from, to string) *cloudtrail.Event {
	return mgmtEvent(cloudtrail.SourceOrganizations, "MoveAccount", map[string]any{"accountId": account, "sourceParentId": from, "destinationParentId": to}, nil)
}

func TestMoveComparesProtection(t *testing.T) {
	eng := mustEngine(t)
	for _, tc := range []struct {
		name   string
		root   []string
		ev     *cloudtrail.Event
		want   []string
		reason string
	}{
		{"loses the foundation protection, keeps the root one", []string{"p-guard"}, moveEvent("200000000000", "ou-1-found", "ou-1-work"), []string{"SCP-NOT-EFFECTIVE/MEDIUM"}, "Lost by the move: stax-protection-foundation (p-found) on ou-1-found"},
		{"keeps every protection", []string{"p-guard"}, moveEvent("300000000000", "ou-1-work", "ou-1-quar"), nil, ""},
		{"gains the foundation protection", []string{"p-guard"}, moveEvent("300000000000", "ou-1-work", "ou-1-found"), nil, ""},
		{"only a decoy at the destination", []string{"p-decoy"}, moveEvent("200000000000", "ou-1-found", "ou-1-work"), []string{"SCP-NOT-EFFECTIVE/HIGH"}, "Stax-Protection-2"},
		{"decoy fools nothing: no root-guarding protection", []string{"p-decoy", "p-region"}, moveEvent("300000000000", "ou-1-work", "ou-1-quar"), []string{"SCP-NOT-EFFECTIVE/HIGH"}, "not root-guarding"},
		{"failed move", []string{"p-guard"}, failed(moveEvent("200000000000", "ou-1-found", "ou-1-work")), []string{"SCP-NOT-EFFECTIVE/LOW"}, "The call failed"},
		{"management account", []string{"p-guard"}, moveEvent("100000000000", "r-1", "ou-1-work"), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(tc.ev, custodyOrg(t, tc.root...))
			got := rulesOf(fs, "SCP-NOT-EFFECTIVE")
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.reason != "" && !strings.Contains(fs[0].Description, tc.reason) {
				t.Errorf("description lacks %q: %s", tc.reason, fs[0].Description)
			}
		})
	}
}

func createPolicy(name, typ, content string) *cloudtrail.Event {
	return mgmtEvent(cloudtrail.SourceOrganizations, "CreatePolicy",
		map[string]any{"name": name, "type": typ, "content": content, "description": "x"},
		map[string]any{"policy": map[string]any{"policySummary": map[string]any{"id": "p-new", "name": name, "type": typ}, "content": content}})
}

func TestImpersonated(t *testing.T) {
	eng := mustEngine(t)
	for _, tc := range []struct {
		name string
		ev   *cloudtrail.Event
		want []string
	}{
		{"decoy created", createPolicy("Stax-Protection-2", org.PolicyTypeSCP, decoyContent), []string{"SCP-IMPERSONATED/HIGH"}},
		{"root-guarding protection created", createPolicy("stax-protection-extra", org.PolicyTypeSCP, guardContent), []string{"SCP-IMPERSONATED/LOW"}},
		{"decoy creation failed", failed(createPolicy("Stax-Protection-2", org.PolicyTypeSCP, decoyContent)), []string{"SCP-IMPERSONATED/LOW"}},
		{"other name", createPolicy("team-policy", org.PolicyTypeSCP, decoyContent), nil},
		{"protection name, tag policy", createPolicy("Stax-Protection-tags", "TAG_POLICY", `{"tags":{}}`), nil},
		{"renamed into the names", mgmtEvent(cloudtrail.SourceOrganizations, "UpdatePolicy", map[string]any{"policyId": "p-other", "name": "Stax-Protection-3"}, nil), []string{"SCP-IMPERSONATED/HIGH"}},
		{"renamed into the names with root-guarding content", mgmtEvent(cloudtrail.SourceOrganizations, "UpdatePolicy", map[string]any{"policyId": "p-other", "name": "Stax-Protection-3", "content": guardContent}, nil), []string{"SCP-IMPERSONATED/LOW"}},
		{"protection renamed within the names", mgmtEvent(cloudtrail.SourceOrganizations, "UpdatePolicy", map[string]any{"policyId": "p-guard", "name": "Stax-Protection-v2"}, nil), nil},
		{"other policy renamed to another name", mgmtEvent(cloudtrail.SourceOrganizations, "UpdatePolicy", map[string]any{"policyId": "p-other", "name": "team"}, nil), nil},
		{"decoy attached", mgmtEvent(cloudtrail.SourceOrganizations, "AttachPolicy", map[string]any{"policyId": "p-decoy", "targetId": "r-1"}, nil), []string{"SCP-IMPERSONATED/HIGH"}},
		{"region-only protection attached", mgmtEvent(cloudtrail.SourceOrganizations, "AttachPolicy", map[string]any{"policyId": "p-region", "targetId": "ou-1-work"}, nil), []string{"SCP-IMPERSONATED/HIGH"}},
		{"decoy attach failed", failed(mgmtEvent(cloudtrail.SourceOrganizations, "AttachPolicy", map[string]any{"policyId": "p-decoy", "targetId": "r-1"}, nil)), []string{"SCP-IMPERSONATED/LOW"}},
		{"root-guarding protection attached", mgmtEvent(cloudtrail.SourceOrganizations, "AttachPolicy", map[string]any{"policyId": "p-guard", "targetId": "r-1"}, nil), nil},
		{"other policy attached", mgmtEvent(cloudtrail.SourceOrganizations, "AttachPolicy", map[string]any{"policyId": "p-other", "targetId": "r-1"}, nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(tc.ev, custodyOrg(t, "p-guard"))
			if got := rulesOf(fs, "SCP-IMPERSONATED"); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if len(tc.want) > 0 && fs[0].AccountID != "100000000000" {
				t.Errorf("finding's account %s, want the management account", fs[0].AccountID)
			}
		})
	}
}

// The SCP-* event rules still cover every protection-named SCP, root-guarding or not.
func TestEventRulesCoverDecoys(t *testing.T) {
	eng := mustEngine(t)
	fs := eng.Evaluate(mgmtEvent(cloudtrail.SourceOrganizations, "DetachPolicy", map[string]any{"policyId": "p-region", "targetId": "r-1"}, nil), custodyOrg(t, "p-guard", "p-region"))
	if got := rulesOf(fs, "SCP-DETACHED"); !slices.Equal(got, []string{"SCP-DETACHED/CRITICAL"}) {
		t.Errorf("detach of a region-only protection SCP: %v", got)
	}
	fs = eng.Evaluate(mgmtEvent(cloudtrail.SourceOrganizations, "DeletePolicy", map[string]any{"policyId": "p-decoy"}, nil), custodyOrg(t, "p-guard"))
	if got := rulesOf(fs, "SCP-DELETED"); !slices.Equal(got, []string{"SCP-DELETED/CRITICAL"}) {
		t.Errorf("delete of a decoy: %v", got)
	}
}

func TestCentralAccessDisabled(t *testing.T) {
	eng := mustEngine(t)
	iam := func(name string) *cloudtrail.Event { return mgmtEvent(cloudtrail.SourceIAM, name, nil, nil) }
	for _, tc := range []struct {
		ev   *cloudtrail.Event
		want []string
	}{
		{iam("DisableOrganizationsRootCredentialsManagement"), []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH"}},
		{iam("DisableOrganizationsRootSessions"), []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH"}},
		{failed(iam("DisableOrganizationsRootSessions")), []string{"ROOT-CENTRAL-ACCESS-DISABLED/MEDIUM"}},
		{iam("EnableOrganizationsRootSessions"), nil},
		{iam("ListOrganizationsFeatures"), nil},
	} {
		if got := rulesOf(eng.Evaluate(tc.ev, custodyOrg(t, "p-guard")), "ROOT-CENTRAL-ACCESS-DISABLED"); !slices.Equal(got, tc.want) {
			t.Errorf("%s (failed %v): got %v, want %v", tc.ev.EventName, tc.ev.Failed(), got, tc.want)
		}
	}
}

func TestAuditFeaturesAndTrails(t *testing.T) {
	eng := mustEngine(t)
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	good := custodyOrg(t, "p-guard").Doc()
	trail := func(orgTrail, multi, logging, mgmt *bool) []org.Trail {
		return []org.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:100000000000:trail/org", Organization: orgTrail, MultiRegion: multi, Logging: logging, ManagementEvents: mgmt}}
	}
	yes, no := ptr(true), ptr(false)
	for _, tc := range []struct {
		name     string
		features []string
		trails   []org.Trail
		want     []string
		says     string
	}{
		{"both fine", good.Organization.Features, good.Organization.Trails, nil, ""},
		{"feature missing", []string{org.FeatureRootSessions}, good.Organization.Trails, []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH"}, "RootCredentialsManagement is not enabled"},
		{"no features at all", []string{}, good.Organization.Trails, []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH"}, "enabled features: none"},
		{"features unknown", nil, good.Organization.Trails, []string{"ROOT-CENTRAL-ACCESS-DISABLED/LOW"}, "features unknown"},
		{"trail stopped", good.Organization.Features, trail(yes, yes, no, yes), []string{"TRAIL-TAMPERED/CRITICAL"}, "not logging"},
		{"trail without management events", good.Organization.Features, trail(yes, yes, yes, no), []string{"TRAIL-TAMPERED/CRITICAL"}, "not recording management events"},
		{"not an organization trail", good.Organization.Features, trail(no, yes, yes, yes), []string{"TRAIL-TAMPERED/CRITICAL"}, "not an organization trail"},
		{"no trail", good.Organization.Features, []org.Trail{}, []string{"TRAIL-TAMPERED/CRITICAL"}, "no trail"},
		{"trails unknown", good.Organization.Features, nil, []string{"TRAIL-TAMPERED/LOW"}, "unknown"},
		{"logging state refused", good.Organization.Features, trail(yes, yes, nil, yes), []string{"TRAIL-TAMPERED/LOW"}, "logging unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := good
			doc.Organization.Features, doc.Organization.Trails = tc.features, tc.trails
			facts, err := org.NewSnapshot(doc)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := eng.Audit(facts, at)
			if err != nil {
				t.Fatal(err)
			}
			got := append(rulesOf(fs, "ROOT-CENTRAL-ACCESS-DISABLED"), rulesOf(fs, "TRAIL-TAMPERED")...)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if (f.Rule == "ROOT-CENTRAL-ACCESS-DISABLED" || f.Rule == "TRAIL-TAMPERED") && !strings.Contains(f.Description, tc.says) {
					t.Errorf("description lacks %q: %s", tc.says, f.Description)
				}
			}
		})
	}
}

func trailEvent(account, name string, params map[string]any) *cloudtrail.Event {
	if params == nil {
		params = map[string]any{}
	}
	if _, ok := params["name"]; !ok {
		params["name"] = "org-trail"
	}
	ev := mgmtEvent(cloudtrail.SourceCloudTrail, name, params, nil)
	ev.RecipientAccountID = account
	return ev
}

func TestTrailTampered(t *testing.T) {
	eng := mustEngine(t)
	const mgmt, member = "100000000000", "300000000000"
	for _, tc := range []struct {
		name string
		ev   *cloudtrail.Event
		want []string
	}{
		{"stop logging", trailEvent(mgmt, "StopLogging", nil), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"delete trail", trailEvent(mgmt, "DeleteTrail", nil), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"stop logging failed", failed(trailEvent(mgmt, "StopLogging", nil)), []string{"TRAIL-TAMPERED/MEDIUM"}},
		{"member's own trail", trailEvent(member, "StopLogging", nil), []string{"TRAIL-TAMPERED/LOW"}},
		{"organization trail by ARN from a delegated administrator", trailEvent(member, "StopLogging", map[string]any{"name": "arn:aws:cloudtrail:us-east-1:100000000000:trail/org"}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"single region", trailEvent(mgmt, "UpdateTrail", map[string]any{"isMultiRegionTrail": false}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"organization off", trailEvent(mgmt, "UpdateTrail", map[string]any{"isOrganizationTrail": false}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"global events off", trailEvent(mgmt, "UpdateTrail", map[string]any{"includeGlobalServiceEvents": false}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"harmless update", trailEvent(mgmt, "UpdateTrail", map[string]any{"s3BucketName": "logs", "isMultiRegionTrail": true}), nil},
		{"selectors drop management", trailEvent(mgmt, "PutEventSelectors", map[string]any{"trailName": "org-trail", "eventSelectors": []any{map[string]any{"includeManagementEvents": false, "readWriteType": "All"}}}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"selectors read-only", trailEvent(mgmt, "PutEventSelectors", map[string]any{"eventSelectors": []any{map[string]any{"readWriteType": "ReadOnly"}}}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"selectors keep management", trailEvent(mgmt, "PutEventSelectors", map[string]any{"eventSelectors": []any{map[string]any{"includeManagementEvents": true, "readWriteType": "All"}}}), nil},
		{"advanced selectors data only", trailEvent(mgmt, "PutEventSelectors", map[string]any{"advancedEventSelectors": []any{map[string]any{"fieldSelectors": []any{map[string]any{"field": "eventCategory", "equals": []string{"Data"}}}}}}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"advanced selectors keep management", trailEvent(mgmt, "PutEventSelectors", map[string]any{"advancedEventSelectors": []any{map[string]any{"fieldSelectors": []any{map[string]any{"field": "eventCategory", "equals": []string{"Management"}}}}}}), nil},
		{"insights removed", trailEvent(mgmt, "PutInsightSelectors", map[string]any{"insightSelectors": []any{}}), []string{"TRAIL-TAMPERED/CRITICAL"}},
		{"insights set", trailEvent(mgmt, "PutInsightSelectors", map[string]any{"insightSelectors": []any{map[string]any{"insightType": "ApiCallRateInsight"}}}), nil},
		{"start logging", trailEvent(mgmt, "StartLogging", nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(tc.ev, custodyOrg(t, "p-guard"))
			if got := rulesOf(fs, "TRAIL-TAMPERED"); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v (%+v)", got, tc.want, fs)
			}
		})
	}
}

// guardReading facts read features and trails apart from Organization, as the live facts do.
type guardReading struct {
	org.Facts
	features []string
	trails   []org.Trail
}

func (g guardReading) Features() []string  { return g.features }
func (g guardReading) Trails() []org.Trail { return g.trails }

// TestAuditAsksGuardReaders: when Organization leaves features and trails unknown, the audit asks
// facts that can read them.
func TestAuditAsksGuardReaders(t *testing.T) {
	eng := mustEngine(t)
	doc := custodyOrg(t, "p-guard").Doc()
	good := doc.Organization
	doc.Organization.Features, doc.Organization.Trails = nil, nil
	base, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	count := func(facts org.Facts) []string {
		fs, err := eng.Audit(facts, at)
		if err != nil {
			t.Fatal(err)
		}
		return append(rulesOf(fs, "ROOT-CENTRAL-ACCESS-DISABLED"), rulesOf(fs, "TRAIL-TAMPERED")...)
	}
	if got := count(base); !slices.Equal(got, []string{"ROOT-CENTRAL-ACCESS-DISABLED/LOW", "TRAIL-TAMPERED/LOW"}) {
		t.Errorf("unknown: %v", got)
	}
	if got := count(guardReading{base, good.Features, good.Trails}); len(got) != 0 {
		t.Errorf("read apart: %v", got)
	}
	if got := count(guardReading{base, []string{}, good.Trails}); !slices.Equal(got, []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH"}) {
		t.Errorf("no features read apart: %v", got)
	}
}
