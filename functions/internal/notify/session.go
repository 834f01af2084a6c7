package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
)

// A root session is one finding (one id for the whole session) but not one alert: its finding is
// delivered again each time the session's set of distinct non-read-only calls (its write calls)
// grows, naming the new calls first, and read-only calls never deliver it again (rules.md, "A
// root session is one finding, but not one alert").
//
// The session's write-call set grows by versions: version N adds the write calls first seen by
// the event that made it, and is created by one conditional write (the version number must still
// be N-1), so concurrent notifiers never lose or merge a growth: each call is added by exactly one
// version, remembered in the session record. A finding's delivery key is the version its write
// calls were added by (the set's sorted hash), or for a finding without new write calls the
// session's current version: a retried or duplicated event finds the same version and the
// ledger delivers it once per channel.

// sessionSuffix ends the id of a session record: finding#<finding id>#session (under the ledger's
// FindingKeyPrefix, so the notifier's IAM condition covers it).
const sessionSuffix = "#session"

// maxSessionAttempts bounds the optimistic retries of one session update under contention.
const maxSessionAttempts = 10

// Session is a root session as a delivery sees it.
type Session struct {
	// Version is the growth of the write-call set the delivery belongs to (0: no write call yet).
	Version int
	// Set is the hash of the sorted write-call set at Version: the delivery record's key.
	Set string
	// NewCalls are the write calls Version added (empty for version 0).
	NewCalls []string
	// WriteCalls is the write-call set at Version, new calls first, then sorted.
	WriteCalls []string
	// Calls are every call of the session known now (read-only ones included), new calls
	// first, then sorted.
	Calls []string
	// Severity is the highest severity of the calls that made versions 1 to Version.
	Severity finding.Severity
}

// Sessions records the calls of root sessions.
type Sessions interface {
	// Session adds a session finding's calls to its session record and returns the update the
	// finding belongs to.
	Session(ctx context.Context, f finding.Finding, now time.Time) (Session, error)
}

// IsSession reports whether f is a root session's finding (it lists the session's calls).
func IsSession(f finding.Finding) bool { return len(f.Calls) > 0 }

// setHash is the key of a write-call set: the first 16 hex digits of the SHA-256 of the sorted
// calls, NUL-separated.
func setHash(calls []string) string {
	s := slices.Clone(calls)
	slices.Sort(s)
	h := sha256.Sum256([]byte(strings.Join(s, "\x00")))
	return hex.EncodeToString(h[:8])
}

func callAttr(call string) string {
	h := sha256.Sum256([]byte(call))
	return "a_" + hex.EncodeToString(h[:8])
}

func versionAttr(v int) string { return "n_" + strconv.Itoa(v) }

// SessionID is the id of a session's record in the state table.
func SessionID(findingID string) string { return FindingKeyPrefix + findingID + sessionSuffix }

// Session implements Sessions on the state table. One item per session:
//
//	id          finding#<finding id>#session (partition key)
//	v           the version: how many times the write-call set grew
//	w           string set: the write calls
//	c           string set: every call seen (read-only ones included)
//	n_<N>       string set: the write calls version N added
//	s_<N>       the severity of the finding that made version N
//	a_<hash>    the version that added the call whose SHA-256 starts with hash
//	expiresAt   Unix seconds: the table's TTL removes the record after Retention of silence
func (l *DynamoLedger) Session(ctx context.Context, f finding.Finding, now time.Time) (Session, error) {
	retention := l.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	id := SessionID(f.ID)
	key := map[string]ddbtypes.AttributeValue{"id": str(id)}
	writes := dedupe(f.WriteCalls)
	common := map[string]ddbtypes.AttributeValue{
		":c":   &ddbtypes.AttributeValueMemberSS{Value: dedupe(f.Calls)},
		":ttl": num(now.Add(retention).Unix()),
		":fid": str(f.ID),
	}
	for range maxSessionAttempts {
		out, err := l.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return Session{}, fmt.Errorf("read session %s in table %s: %w", id, l.Table, err)
		}
		item := out.Item
		v := intAttr(item, "v")
		known := ssAttr(item, "w")
		var added []string
		for _, w := range writes {
			if !slices.Contains(known, w) {
				added = append(added, w)
			}
		}
		if len(added) == 0 {
			// Nothing new: the update is the version that added this event's write calls, or
			// for a read-only call the session's current one (read atomically with the write).
			upd, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(l.Table),
				Key:                       key,
				UpdateExpression:          aws.String("ADD c :c SET expiresAt = :ttl, findingId = if_not_exists(findingId, :fid)"),
				ExpressionAttributeValues: common,
				ReturnValues:              ddbtypes.ReturnValueAllNew,
			})
			if err != nil {
				return Session{}, fmt.Errorf("record the calls of session %s in table %s: %w", id, l.Table, err)
			}
			version := intAttr(upd.Attributes, "v")
			if len(writes) > 0 {
				version = 0
				for _, w := range writes {
					version = max(version, intAttr(upd.Attributes, callAttr(w)))
				}
			}
			return sessionAt(upd.Attributes, version), nil
		}
		next := v + 1
		values := map[string]ddbtypes.AttributeValue{
			":w": &ddbtypes.AttributeValueMemberSS{Value: added}, ":next": num(int64(next)),
		}
		for k, x := range common {
			values[k] = x
		}
		values[":sev"] = str(f.Severity.String())
		names := map[string]string{"#n": versionAttr(next), "#s": "s_" + strconv.Itoa(next)}
		set := []string{"v = :next", "#n = :w", "#s = :sev", "expiresAt = :ttl", "findingId = if_not_exists(findingId, :fid)"}
		for i, w := range added {
			names[fmt.Sprintf("#a%d", i)] = callAttr(w)
			set = append(set, fmt.Sprintf("#a%d = :next", i))
		}
		cond := "attribute_not_exists(v)"
		if v > 0 {
			cond = "v = :v"
			values[":v"] = num(int64(v))
		}
		upd, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(l.Table),
			Key:                       key,
			UpdateExpression:          aws.String("ADD w :w, c :c SET " + strings.Join(set, ", ")),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
			ReturnValues:              ddbtypes.ReturnValueAllNew,
		})
		if isConditionFailed(err) {
			continue // another notifier grew the session meanwhile: read it again
		}
		if err != nil {
			return Session{}, fmt.Errorf("grow the write calls of session %s in table %s: %w", id, l.Table, err)
		}
		return sessionAt(upd.Attributes, next), nil
	}
	return Session{}, fmt.Errorf("grow the write calls of session %s in table %s: %w", id, l.Table, errSessionContention)
}

// errSessionContention: the session record kept changing under the update.
var errSessionContention = errors.New("the session record kept changing")

// sessionAt builds the session view of version from its record.
func sessionAt(item map[string]ddbtypes.AttributeValue, version int) Session {
	s := Session{Version: version, NewCalls: sorted(ssAttr(item, versionAttr(version)))}
	var set []string
	for n := 1; n <= version; n++ {
		set = append(set, ssAttr(item, versionAttr(n))...)
		if label, ok := item["s_"+strconv.Itoa(n)].(*ddbtypes.AttributeValueMemberS); ok {
			if sev, err := finding.ParseSeverity(label.Value); err == nil {
				s.Severity = max(s.Severity, sev)
			}
		}
	}
	s.Set = setHash(set)
	s.WriteCalls = newFirst(s.NewCalls, set)
	s.Calls = newFirst(s.NewCalls, ssAttr(item, "c"))
	return s
}

// newFirst returns the new calls, then the other calls of all, sorted.
func newFirst(fresh, all []string) []string {
	out := slices.Clone(fresh)
	var rest []string
	for _, c := range all {
		if !slices.Contains(fresh, c) && !slices.Contains(rest, c) {
			rest = append(rest, c)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func intAttr(item map[string]ddbtypes.AttributeValue, name string) int {
	if n, ok := item[name].(*ddbtypes.AttributeValueMemberN); ok {
		v, _ := strconv.Atoi(n.Value)
		return v
	}
	return 0
}

func ssAttr(item map[string]ddbtypes.AttributeValue, name string) []string {
	if ss, ok := item[name].(*ddbtypes.AttributeValueMemberSS); ok {
		return ss.Value
	}
	return nil
}

// callsMarker starts the list of a session's calls in a finding's description (package rule).
const callsMarker = " Calls seen in this session: "

// sessionUpdate is the finding delivered for session update s: the session's calls (new ones
// first), the highest severity of the finding and of the calls up to the update (so a later
// read-only or failed call never lowers what Security Hub shows), and a description that names
// the new calls first.
func sessionUpdate(f finding.Finding, s Session) finding.Finding {
	u := f
	u.Calls, u.WriteCalls, u.NewCalls = s.Calls, s.WriteCalls, s.NewCalls
	u.Severity = max(f.Severity, s.Severity)
	desc, _, _ := strings.Cut(f.Description, callsMarker)
	if len(s.NewCalls) > 0 {
		desc = "New calls in this session: " + strings.Join(s.NewCalls, ", ") + ". " + desc
	}
	u.Description = desc + callsMarker + strings.Join(s.Calls, ", ") + "."
	return u
}

// session turns a root session's finding into the session update it belongs to, and returns it
// with its delivery key. When the session record cannot be read or written, the finding is
// delivered as it is, keyed by its severity (a possible repeat is better than a lost alert).
func (h *Handler) session(ctx context.Context, f finding.Finding) (finding.Finding, Key) {
	s, err := h.Sessions.Session(ctx, f, h.now())
	if err != nil {
		h.Log.Error("session record unavailable: delivering the call as it is (it may repeat an alert)",
			"findingId", f.ID, "eventId", f.EventID, "rule", f.Rule, "error", err.Error())
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "ledger"})
		return f, KeyOf(f)
	}
	u := sessionUpdate(f, s)
	h.Log.Info("session update", "findingId", f.ID, "eventId", f.EventID, "rule", f.Rule, "version", s.Version,
		"newCalls", strings.Join(s.NewCalls, ", "), "severity", u.Severity.String())
	return u, Key{FindingID: f.ID, Severity: u.Severity, Update: strconv.Itoa(s.Version) + "-" + s.Set}
}
