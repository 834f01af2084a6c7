// Package finding holds the finding rootguard raises, its severities and its deterministic id.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Severity is a Security Hub severity label, ordered from INFORMATIONAL to CRITICAL.
type Severity int

// The severities, in increasing order.
const (
	Informational Severity = iota + 1
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// Severities lists every severity, lowest first.
var Severities = []Severity{Informational, Low, Medium, High, Critical}

// String returns the Security Hub label.
func (s Severity) String() string {
	if s < Informational || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a label, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Ownership of an account.
const (
	StaxOwned     = "stax-owned"
	CustomerOwned = "customer-owned"
	Unknown       = "unknown"
)

// Account roles.
const (
	Management = "management"
	Member     = "member"
)

// Finding is one alert. The JSON field names are the public format (rules.md, "Findings").
type Finding struct {
	ID          string   `json:"id"`
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	AccountID   string   `json:"accountId"`
	AccountName string   `json:"accountName"`
	Ownership   string   `json:"ownership"`
	AccountRole string   `json:"accountRole"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Remediation string   `json:"remediation"`
	EventID     string   `json:"eventId"`
	EventName   string   `json:"eventName"`
	EventTime   string   `json:"eventTime"`
	Region      string   `json:"region"`
	Actor       string   `json:"actor"`
	SourceIP    string   `json:"sourceIp"`

	// Calls lists the API calls seen in a root session (ROOT-UNRESTRICTED-ACTION, ROOT-ACTIVITY).
	Calls []string `json:"calls,omitempty"`
	// WriteCalls are the calls of Calls that were not read-only (failed attempts included): a
	// root session's finding is delivered to people again each time this set grows.
	WriteCalls []string `json:"writeCalls,omitempty"`
	// NewCalls, set by the notifier on a root session's delivery, are the write calls this
	// delivery is the first to name (listed first in Calls).
	NewCalls []string `json:"newCalls,omitempty"`
	// Resources names what the finding is about besides the account (policy, OU, root ids).
	Resources []string `json:"resources,omitempty"`
	// Exception is the approved exception or trusted principal that lowered the severity.
	Exception string `json:"exception,omitempty"`
	// Canary marks a finding from a synthetic heartbeat event; it is never sent to people.
	Canary bool `json:"canary,omitempty"`
	// References are documentation links for the rule.
	References []string `json:"references,omitempty"`
	// Types are the rule's Security Hub finding types (namespace/category/classifier).
	Types []string `json:"types,omitempty"`

	// Revert says what rootguard's automatic revert did about the finding, when, and the result
	// (ROOTGUARD_REVERT dry-run or on); empty when it did nothing.
	Revert string `json:"revert,omitempty"`
	// Status is StatusResolved once the protection the finding is about was restored; empty
	// while the finding is open.
	Status string `json:"status,omitempty"`
	// ResolvedAt is when the protection was restored (RFC 3339), with Status resolved.
	ResolvedAt string `json:"resolvedAt,omitempty"`
	// ResolvedBy is the id of the event that restored it, or ResolvedByAudit.
	ResolvedBy string `json:"resolvedBy,omitempty"`
}

// ID derives a deterministic finding id from its parts: the same parts give the same id.
func ID(rule string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(rule))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return strings.ToLower(rule) + "-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// JSON returns the finding as one line of JSON.
func (f *Finding) JSON() []byte {
	b, _ := json.Marshal(f)
	return b
}
