package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/metric"
)

// ErrNotFromAWS: the event is not AWS's own record (a custom source, an envelope whose account
// is not the recording account, a canary from another account than the central one): someone
// put it on the bus. It is refused and never evaluated.
var ErrNotFromAWS = errors.New("event not from AWS")

// RefusedNotFromAWS is the Kind dimension of metric.Errors for an event refused as not from AWS.
const RefusedNotFromAWS = "not-from-aws"

// checkOrigin refuses an event AWS did not write (cloudtrail.Event.NotFromAWS): the reason is
// logged, counted (metric.Errors, Kind not-from-aws) and returned.
func (h *Evaluator) checkOrigin(ctx context.Context, ev *cloudtrail.Event) error {
	why := ev.NotFromAWS(h.centralAccount(ctx))
	if why == "" {
		return nil
	}
	err := fmt.Errorf("%s: %w: %s", h.Function, ErrNotFromAWS, why)
	var source, account string
	if ev.Envelope != nil {
		source, account = ev.Envelope.Source, ev.Envelope.Account
	}
	h.Log.Error("event refused", "eventId", ev.ID(), "reason", "not from AWS", "source", source, "account", account,
		"recipientAccountId", ev.RecipientAccountID, "error", err.Error(), "retryable", false)
	h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: RefusedNotFromAWS})
	return err
}

// centralAccount is the account the heartbeat's canaries may come from: CentralAccount when set,
// else the account of the invoked function (the function runs in the central account, beside the
// heartbeat), else "" (no canary is accepted).
func (h *Evaluator) centralAccount(ctx context.Context) string {
	if h.CentralAccount != "" {
		return h.CentralAccount
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return accountOfARN(lc.InvokedFunctionArn)
	}
	return ""
}

// accountOfARN returns the account field of an ARN (arn:partition:service:region:account:...).
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
