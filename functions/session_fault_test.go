//go:build linux

package functions

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/routing"
)

// The fault-injection run's root session: a first read-only call that opens it (its first
// alert), then 20 calls made in the management account with one access key, sent concurrently
// with the faults on: 5 new write calls, 3 repeats of them and 12 read-only calls. Each new write
// call must reach every channel once (5 deliveries per channel), read-only calls and repeats
// none.
const (
	sessionKey    = "ASIAFAULTSESSION2026"
	sessionEvents = 20
)

var (
	sessionWrites = []sessionCall{
		{"iam", "CreateUser", `{"userName":"fault-breakglass"}`},
		{"iam", "AddUserToGroup", `{"userName":"fault-breakglass","groupName":"Administrators"}`},
		{"iam", "DeleteAccountPasswordPolicy", `{}`},
		{"s3", "PutBucketPolicy", `{"bucketName":"acme-audit-logs"}`},
		{"ec2", "AuthorizeSecurityGroupIngress", `{"groupId":"sg-0fa17e5e55104c0de"}`},
	}
	sessionReads = []sessionCall{
		{"iam", "ListUsers", `{}`}, {"iam", "GetUser", `{"userName":"fault-breakglass"}`}, {"s3", "ListBuckets", `{}`},
		{"ec2", "DescribeInstances", `{}`}, {"iam", "ListAttachedUserPolicies", `{"userName":"fault-breakglass"}`},
		{"iam", "ListAccessKeys", `{"userName":"fault-breakglass"}`},
	}
	sessionOpener = sessionCall{"iam", "GetAccountSummary", `{}`}
)

type sessionCall struct{ service, name, params string }

// sessionEvent is a root call of the session as EventBridge delivers it.
func sessionEvent(t *testing.T, mgmt string, c sessionCall, readOnly bool, n int) faultEvent {
	t.Helper()
	id := fmt.Sprintf("fa0175e5-5e55-4000-8000-%012d", n)
	at := fmt.Sprintf("2026-11-27T10:%02d:%02dZ", 10+n/60, n%60)
	raw, err := events.Wrap(fmt.Appendf(nil, `{"eventVersion":"1.09",
"userIdentity":{"type":"Root","principalId":%q,"arn":"arn:aws:iam::%s:root","accountId":%q,"accessKeyId":%q,
"sessionContext":{"attributes":{"creationDate":"2026-11-27T10:09:00Z","mfaAuthenticated":"true"}}},
"eventTime":%q,"eventSource":"%s.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.77",
"userAgent":"Mozilla/5.0","requestParameters":%s,"responseElements":null,"eventID":%q,"readOnly":%t,
"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":%q,"eventCategory":"Management"}`,
		mgmt, mgmt, mgmt, sessionKey, at, c.service, c.name, c.params, id, readOnly, mgmt))
	if err != nil {
		t.Fatalf("session event %d: %v", n, err)
	}
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatalf("session event %d: %v", n, err)
	}
	fns := routing.FunctionsFor(handler.Fields(ev))
	if !slices.Equal(fns, []string{function.RootActivity}) {
		t.Fatalf("session event %s goes to %v, want root-activity only", c.name, fns)
	}
	return faultEvent{raw: raw, id: ev.ID(), functions: fns, accountKnown: true}
}

// faultSession returns the session's opening call and its 20 calls (in a seeded random order,
// every faultDuplicateOf-th sent twice).
func faultSession(t *testing.T, mgmt string) (opener faultEvent, calls []faultEvent) {
	t.Helper()
	opener = sessionEvent(t, mgmt, sessionOpener, true, 0)
	n := 1
	for _, c := range sessionWrites {
		calls = append(calls, sessionEvent(t, mgmt, c, false, n))
		n++
	}
	for _, c := range sessionWrites[:3] {
		calls = append(calls, sessionEvent(t, mgmt, c, false, n))
		n++
	}
	for i := range sessionEvents - len(calls) {
		calls = append(calls, sessionEvent(t, mgmt, sessionReads[i%len(sessionReads)], true, n))
		n++
	}
	var out []faultEvent
	for i, e := range calls {
		out = append(out, e)
		if i%faultDuplicateOf == 0 {
			d := e
			d.duplicate = true
			out = append(out, d)
		}
	}
	rand.New(rand.NewPCG(faultSeed, 3)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return opener, out
}

// sessionDeliveries counts a root session's deliveries per channel by the new calls they name
// (empty for a session's first alert without a write call).
type sessionDeliveries map[string]*[3][]string // finding id → per channel, each delivery's new calls

func (s sessionDeliveries) add(ch int, id, newCalls string) {
	d := s[id]
	if d == nil {
		d = &[3][]string{}
		s[id] = d
	}
	d[ch] = append(d[ch], newCalls)
}

// sessionIDs are the ids of the root sessions' findings (they list calls).
func sessionIDs(findings []finding.Finding) map[string]bool {
	out := map[string]bool{}
	for _, f := range findings {
		if len(f.Calls) > 0 && !f.Canary {
			out[f.ID] = true
		}
	}
	return out
}

// hubNewCalls reads the new calls an imported ASFF finding names.
func hubNewCalls(raw []byte) string {
	var a struct{ ProductFields map[string]string }
	_ = json.Unmarshal(raw, &a)
	return a.ProductFields["rootguard/newCalls"]
}

// checkSessions checks every session's deliveries (delivered and expected count write calls
// named new): each write call of a session is named new by
// exactly one delivery per channel whose minimum its severity reaches (at most one on the others),
// no two deliveries name the same new calls, and nothing else is named. failed holds the ids of
// findings in the on-failure list (their deliveries may be missing).
func (r *faultRun) checkSessions(findings []finding.Finding, got sessionDeliveries, failed map[string]bool) (lost, duplicated, unexpected []string, delivered, expected [3]int) {
	mins := [3]finding.Severity{minEmail, minChat, minSecHub}
	writes := map[string]map[string]finding.Severity{} // id → write call → severity
	for _, f := range findings {
		if len(f.Calls) == 0 || f.Canary {
			continue
		}
		if writes[f.ID] == nil {
			writes[f.ID] = map[string]finding.Severity{}
		}
		for _, w := range f.WriteCalls {
			writes[f.ID][w] = max(writes[f.ID][w], f.Severity)
		}
	}
	ids := make([]string, 0, len(writes))
	for id := range writes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var d [3][]string
		if got[id] != nil {
			d = *got[id]
		}
		for ch := range 3 {
			named := map[string]int{}
			seen := map[string]bool{}
			for _, nc := range d[ch] {
				if seen[nc] {
					duplicated = append(duplicated, fmt.Sprintf("session %s on %s: new calls %q twice", id, channelNames[ch], nc))
				}
				seen[nc] = true
				if nc == "" {
					continue
				}
				for _, c := range strings.Split(nc, ", ") {
					named[c]++
					delivered[ch]++
					if _, ok := writes[id][c]; !ok {
						unexpected = append(unexpected, fmt.Sprintf("session %s on %s: %q is not a write call of the session", id, channelNames[ch], c))
					}
				}
			}
			for w, sev := range writes[id] {
				switch n := named[w]; {
				case n > 1:
					duplicated = append(duplicated, fmt.Sprintf("session %s on %s: %s named new %d times", id, channelNames[ch], w, n))
				case n == 0 && sev >= mins[ch] && !failed[id]:
					lost = append(lost, fmt.Sprintf("session %s on %s: %s", id, channelNames[ch], w))
				}
				if sev >= mins[ch] {
					expected[ch]++
				}
			}
		}
	}
	return lost, duplicated, unexpected, delivered, expected
}

// sessionLine is the report line of the 20-call session: its updates per channel after its
// first alert.
func (r *faultRun) sessionLine(findings []finding.Finding, got sessionDeliveries, calls []faultEvent, lost, duplicated int) (string, [3]int) {
	var id string
	for _, f := range findings {
		if len(f.Calls) > 0 && strings.HasPrefix(f.EventID, "fa0175e5-") {
			id = f.ID
			break
		}
	}
	var n [3]int
	if d := got[id]; d != nil {
		for ch := range 3 {
			for _, nc := range d[ch] {
				if nc != "" {
					n[ch]++
				}
			}
		}
	}
	return fmt.Sprintf("session updates: one root session, a first alert then %d calls (%d new writes, %d repeated writes, %d read-only; %d sent twice): alerts %d, chat %d, securityhub %d updates; session deliveries lost %d, duplicated %d",
		sessionEvents, len(sessionWrites), 3, sessionEvents-len(sessionWrites)-3, dupCount(calls), n[0], n[1], n[2], lost, duplicated), n
}
