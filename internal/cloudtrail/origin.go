package cloudtrail

import (
	"fmt"
	"strings"
)

// AWSSourcePrefix starts every EventBridge source that AWS writes; EventBridge rejects a
// PutEvents with such a source, so no principal can forge one.
const AWSSourcePrefix = "aws."

// NotFromAWS returns why an EventBridge event must not be evaluated as AWS's own record, or ""
// when it may be (rules.md, "Forged and misrouted events"):
//   - its source must start with "aws." (anyone in the organization may put an event of any other
//     source, with any detail-type, on a bus that admits the organization);
//   - its account must equal detail.recipientAccountId (forwarding keeps both; they differ only
//     in an event someone composed);
//   - the heartbeat's canary source is accepted from the central account only (centralAccount;
//     when it is empty, as in replay, no canary is accepted).
//
// A bare CloudTrail record (from a log file) has no envelope and is always accepted.
func (e *Event) NotFromAWS(centralAccount string) string {
	env := e.Envelope
	if env == nil {
		return ""
	}
	if env.Source == CanarySource {
		switch {
		case centralAccount == "":
			return fmt.Sprintf("source %q (the heartbeat's canary) with no central account to accept it from", env.Source)
		case env.Account != centralAccount:
			return fmt.Sprintf("source %q (the heartbeat's canary) from account %q, not the central account %s", env.Source, env.Account, centralAccount)
		}
		return ""
	}
	if !strings.HasPrefix(env.Source, AWSSourcePrefix) {
		return fmt.Sprintf("source %q does not start with %q: AWS did not write it", env.Source, AWSSourcePrefix)
	}
	if env.Account != e.RecipientAccountID {
		return fmt.Sprintf("account %q differs from detail.recipientAccountId %q", env.Account, e.RecipientAccountID)
	}
	return ""
}
