package rule

import (
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
)

// guardSeeds are odd shapes of the events the guard rules read: wrong types where booleans,
// lists and objects belong, responses as strings, missing names.
var guardSeeds = []string{
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","recipientAccountId":"100000000000","requestParameters":{"name":"t","isMultiRegionTrail":"false","isOrganizationTrail":0}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","recipientAccountId":"100000000000","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:300000000000:trail/x","includeGlobalServiceEvents":false}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"PutEventSelectors","recipientAccountId":"100000000000","requestParameters":{"trailName":"t","eventSelectors":"All"}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"PutEventSelectors","recipientAccountId":"100000000000","requestParameters":{"trailName":"t","eventSelectors":[{"includeManagementEvents":"no","readWriteType":7}]}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"PutEventSelectors","recipientAccountId":"100000000000","requestParameters":{"advancedEventSelectors":[{"fieldSelectors":[{"field":"eventCategory","equals":[]}]}]}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"PutInsightSelectors","recipientAccountId":"100000000000","requestParameters":{"insightSelectors":null}}`,
	`{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","recipientAccountId":"100000000000","errorCode":"AccessDenied","requestParameters":{"name":"arn:aws:cloudtrail"}}`,
	`{"eventSource":"iam.amazonaws.com","eventName":"DisableOrganizationsRootSessions","recipientAccountId":"300000000000","requestParameters":null}`,
	`{"eventSource":"organizations.amazonaws.com","eventName":"CreatePolicy","requestParameters":{"name":"Stax-Protection-2","type":"SERVICE_CONTROL_POLICY","content":"{\"Statement\":["},"responseElements":{"policy":"not an object"}}`,
	`{"eventSource":"organizations.amazonaws.com","eventName":"CreatePolicy","requestParameters":{"name":7},"responseElements":{"policy":{"policySummary":{"id":"p-x","name":"Stax-Protection-x"},"content":null}}}`,
	`{"eventSource":"organizations.amazonaws.com","eventName":"UpdatePolicy","requestParameters":{"policyId":"p-unknown","name":"stax-protection","content":""}}`,
	`{"eventSource":"organizations.amazonaws.com","eventName":"AttachPolicy","requestParameters":{"policyId":"p-nocontent","targetId":"ou-1-quar"}}`,
	`{"eventSource":"organizations.amazonaws.com","eventName":"MoveAccount","requestParameters":{"accountId":"200000000000","sourceParentId":"ou-1-found","destinationParentId":"ou-missing"}}`,
}

// FuzzGuardRules evaluates arbitrary events against an organization with decoys: no panic, at
// most one finding of each guard rule per event, each rule only for its own events, and a failed
// call never above MEDIUM.
func FuzzGuardRules(f *testing.F) {
	for _, s := range guardSeeds {
		f.Add([]byte(s))
	}
	for _, dir := range []string{"SCP-IMPERSONATED", "TRAIL-TAMPERED", "ROOT-CENTRAL-ACCESS-DISABLED", "SCP-NOT-EFFECTIVE"} {
		files, _ := events.Folder(dir)
		for _, s := range files {
			if strings.HasSuffix(s.Path, ".json") {
				f.Add(s.Data)
			}
		}
	}
	eng, err := NewEngine(Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		f.Fatal(err)
	}
	facts := custodyOrg(f, "p-guard", "p-decoy", "p-region")
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := cloudtrail.Decode(data)
		if err != nil {
			return
		}
		seen := map[string]int{}
		for _, fd := range eng.Evaluate(ev, facts, GroupProtection) {
			seen[fd.Rule]++
			if fd.Description == "" || fd.Title == "" {
				t.Fatalf("%s without a title or description", fd.Rule)
			}
			switch fd.Rule {
			case "SCP-IMPERSONATED":
				if ev.EventSource != cloudtrail.SourceOrganizations {
					t.Fatalf("SCP-IMPERSONATED for %s", ev.EventSource)
				}
			case "TRAIL-TAMPERED":
				if ev.EventSource != cloudtrail.SourceCloudTrail {
					t.Fatalf("TRAIL-TAMPERED for %s", ev.EventSource)
				}
			case "ROOT-CENTRAL-ACCESS-DISABLED":
				if ev.EventSource != cloudtrail.SourceIAM {
					t.Fatalf("ROOT-CENTRAL-ACCESS-DISABLED for %s", ev.EventSource)
				}
			default:
				continue
			}
			if ev.Failed() && fd.Severity > finding.Medium {
				t.Fatalf("failed call raised %s at %s", fd.Rule, fd.Severity)
			}
			if seen[fd.Rule] > 1 {
				t.Fatalf("%s raised twice for one event", fd.Rule)
			}
		}
	})
}
