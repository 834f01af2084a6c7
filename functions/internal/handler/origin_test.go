package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/internal/function"
)

const testCentral = "999988887777"

// TestForgedSamplesRefused: each forged sample (events/forged) is refused by the function its
// detail would concern, with the reason logged and counted, and nothing is published.
func TestForgedSamplesRefused(t *testing.T) {
	tests := []struct {
		fn, file, reason string
	}{
		{function.RootActivity, "forged/none.custom-source-root-call.json", `source \"acme.forged\" does not start with \"aws.\"`},
		{function.SCPGuard, "forged/none.lookalike-source-scp-detach.json", `source \"aws-organizations\" does not start with \"aws.\"`},
		{function.RootActivity, "forged/none.canary-from-member-account.json", `from account \"444444444444\", not the central account 999988887777`},
		{function.RootActivity, "forged/none.account-differs-from-recipient.json", `account \"333333333333\" differs from detail.recipientAccountId \"444444444444\"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, log := &publisher{}, &bytes.Buffer{}
			h := evaluator(t, tt.fn, sampleOrg(t), out, log)
			h.CentralAccount = testCentral
			err := h.Handle(context.Background(), readSample(t, tt.file))
			if !errors.Is(err, ErrNotFromAWS) {
				t.Fatalf("Handle = %v, want %v", err, ErrNotFromAWS)
			}
			if len(out.got) != 0 {
				t.Errorf("published %v", out.got)
			}
			l := log.String()
			if !strings.Contains(l, `"msg":"event refused"`) || !strings.Contains(l, `"reason":"not from AWS"`) || !strings.Contains(l, tt.reason) {
				t.Errorf("no refusal line with the reason %s:\n%s", tt.reason, l)
			}
			if !strings.Contains(l, `"Kind":"`+RefusedNotFromAWS+`"`) {
				t.Errorf("no %s metric:\n%s", RefusedNotFromAWS, l)
			}
		})
	}
}

// TestCanaryFromTheCentralAccount: the heartbeat's canary is accepted from the central account,
// configured or taken from the invoked function's ARN, and refused when neither is known.
func TestCanaryFromTheCentralAccount(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(readSample(t, "forged/none.canary-from-member-account.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["account"] = testCentral
	raw, _ := json.Marshal(ev)
	lambdaCtx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		InvokedFunctionArn: "arn:aws:lambda:eu-west-1:" + testCentral + ":function:rootguard-root-activity"})
	for _, tt := range []struct {
		name    string
		central string
		ctx     context.Context
		refused bool
	}{
		{"configured", testCentral, context.Background(), false},
		{"from the function ARN", "", lambdaCtx, false},
		{"configured elsewhere", "111111111111", lambdaCtx, true},
		{"unknown", "", context.Background(), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, log := &publisher{}, &bytes.Buffer{}
			h := evaluator(t, function.RootActivity, sampleOrg(t), out, log)
			h.CentralAccount = tt.central
			err := h.Handle(tt.ctx, raw)
			if tt.refused != errors.Is(err, ErrNotFromAWS) {
				t.Fatalf("Handle = %v, refused want %v", err, tt.refused)
			}
			if !tt.refused && (len(out.got) != 1 || !out.got[0].Canary) {
				t.Errorf("published %+v, want one canary finding", out.got)
			}
		})
	}
}
