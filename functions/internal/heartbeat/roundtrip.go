package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/route"
)

// SSMAPI writes a parameter (satisfied by *ssm.Client, with the management account's heartbeat
// role credentials); the region is chosen per call.
type SSMAPI interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// RoundTrip is the end-to-end CloudTrail canary (package canary): on every heartbeat, one
// ssm:PutParameter of canary.RoundTripParameter in each of Regions of the management account;
// the recorded calls come back through the management forwarders and the central bus, and are
// counted (canary.RoundTripMetric by Region).
type RoundTrip struct {
	API     SSMAPI
	Regions []string
	// ManagementAccount is the only account a round-trip event is accepted from; RoleARN, the
	// role the heartbeat writes with, the only caller (its session issuer).
	ManagementAccount, RoleARN string
}

// ErrNotRoundTrip: a CloudTrail event that is not the heartbeat's own round trip (permanent).
var ErrNotRoundTrip = errors.New("not the heartbeat's CloudTrail round trip")

// put writes the parameter in every region at once (value: the heartbeat's time), so that a
// slow region delays no other; the error joins the regions that failed, in Regions order.
func (rt *RoundTrip) put(ctx context.Context, log *slog.Logger, eventID string, at time.Time) error {
	errs := make([]error, len(rt.Regions))
	var wg sync.WaitGroup
	for i, region := range rt.Regions {
		wg.Go(func() {
			_, err := rt.API.PutParameter(ctx, &ssm.PutParameterInput{
				Name:        aws.String(canary.RoundTripParameter),
				Value:       aws.String(at.UTC().Format(time.RFC3339)),
				Type:        ssmtypes.ParameterTypeString,
				Overwrite:   aws.Bool(true),
				Description: aws.String("rootguard heartbeat: the CloudTrail round-trip canary writes its time here"),
			}, func(o *ssm.Options) { o.Region = region })
			if err != nil {
				errs[i] = fault.Classified("ssm "+region, fmt.Errorf("put %s in %s of account %s: %w", canary.RoundTripParameter, region, rt.ManagementAccount, err))
				return
			}
			log.Info("round-trip parameter put", "eventId", eventID, "region", region, "parameter", canary.RoundTripParameter)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// roundTripEvent is the part of a CloudTrail event (as EventBridge delivers it) the round trip
// checks.
type roundTripEvent struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	Detail     struct {
		EventID            string `json:"eventID"`
		EventTime          string `json:"eventTime"`
		EventSource        string `json:"eventSource"`
		EventName          string `json:"eventName"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
		ErrorCode          string `json:"errorCode"`
		UserIdentity       struct {
			Type           string `json:"type"`
			SessionContext struct {
				SessionIssuer struct {
					Arn string `json:"arn"`
				} `json:"sessionIssuer"`
			} `json:"sessionContext"`
		} `json:"userIdentity"`
		RequestParameters struct {
			Name string `json:"name"`
		} `json:"requestParameters"`
	} `json:"detail"`
}

// isCloudTrail reports whether a raw event is a CloudTrail event of the round trip's source
// (rather than the schedule), so that Handle checks it as a round trip; any other event is
// refused as not scheduled.
func isCloudTrail(raw []byte) bool {
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &ev) == nil && ev.Source == roundTripSource && strings.HasSuffix(ev.DetailType, "via CloudTrail")
}

// roundTripSource is the source of the round-trip events.
const roundTripSource = "aws.ssm"

// roundTrip counts one round-trip event, or refuses it with the reason: it must be the
// heartbeat's own PutParameter of the parameter (made with the heartbeat role), recorded in the
// management account (envelope and record agreeing), in a region.
func (h *Handler) roundTrip(log *slog.Logger, raw []byte) error {
	var ev roundTripEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return h.refuse(log, "", fmt.Errorf("heartbeat: %w: %v", ErrNotRoundTrip, err))
	}
	d := ev.Detail
	fields := route.Fields{Source: ev.Source, DetailType: ev.DetailType, EventSource: d.EventSource, EventName: d.EventName,
		UserIdentityType: d.UserIdentity.Type, RequestName: d.RequestParameters.Name}
	r, _ := route.OwnFor(function.Heartbeat)
	rt := h.RoundTrip
	var why string
	switch {
	case rt == nil:
		why = "the round trip is not configured (ROOTGUARD_HEARTBEAT_REGIONS)"
	case !r.Matches(fields):
		why = fmt.Sprintf("source %q, detail-type %q, %s:%s of %q is not the round-trip call (aws.ssm PutParameter of %s)",
			ev.Source, ev.DetailType, d.EventSource, d.EventName, d.RequestParameters.Name, canary.RoundTripParameter)
	case ev.Account != rt.ManagementAccount || d.RecipientAccountID != ev.Account:
		why = fmt.Sprintf("recorded in account %q (envelope %q), not the management account %s", d.RecipientAccountID, ev.Account, rt.ManagementAccount)
	case rt.RoleARN != "" && d.UserIdentity.SessionContext.SessionIssuer.Arn != rt.RoleARN:
		why = fmt.Sprintf("made by %q, not the heartbeat role %s", d.UserIdentity.SessionContext.SessionIssuer.Arn, rt.RoleARN)
	case d.AWSRegion == "" || (ev.Region != "" && ev.Region != d.AWSRegion):
		why = fmt.Sprintf("region %q of the record and %q of the envelope", d.AWSRegion, ev.Region)
	}
	if why != "" {
		return h.refuse(log, d.EventID, fmt.Errorf("heartbeat: %w: %s", ErrNotRoundTrip, why))
	}
	attrs := []any{"eventId", d.EventID, "region", d.AWSRegion, "accountId", ev.Account, "eventTime", d.EventTime}
	if t, err := time.Parse(time.RFC3339, d.EventTime); err == nil {
		attrs = append(attrs, "lag", h.now().Sub(t).Round(time.Second).String())
	}
	if d.ErrorCode != "" {
		// Still a round trip (the trail and the forwarders carried it); the failed write shows
		// in the heartbeat's own errors.
		attrs = append(attrs, "errorCode", d.ErrorCode)
	}
	if !slices.Contains(rt.Regions, d.AWSRegion) {
		attrs = append(attrs, "note", "a region the heartbeat does not write in")
	}
	log.Info("cloudtrail round trip", attrs...)
	h.Metrics.Add(canary.RoundTripMetric, 1, metric.Dim{Name: "Region", Value: d.AWSRegion})
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
