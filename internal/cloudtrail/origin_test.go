package cloudtrail

import (
	"strings"
	"testing"
)

func TestNotFromAWS(t *testing.T) {
	const central = "999988887777"
	env := func(source, account, recipient string) string {
		return `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"` + source +
			`","account":"` + account + `","region":"us-east-1","detail":{"eventSource":"iam.amazonaws.com","eventName":"CreateUser",` +
			`"userIdentity":{"type":"Root"},"recipientAccountId":"` + recipient + `"}}`
	}
	tests := []struct {
		name, in, central string
		want              string // a part of the reason; "" = accepted
	}{
		{"AWS event", env("aws.iam", "111111111111", "111111111111"), central, ""},
		{"bare CloudTrail record", `{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","recipientAccountId":"1"}`, central, ""},
		{"custom source with the CloudTrail detail-type", env("acme.forged", "111111111111", "111111111111"), central, `source "acme.forged" does not start with "aws."`},
		{"source that only contains aws", env("notaws.iam", "111111111111", "111111111111"), central, `does not start with "aws."`},
		{"account differs from recipientAccountId", env("aws.iam", "111111111111", "222222222222"), central, `account "111111111111" differs from detail.recipientAccountId "222222222222"`},
		{"no recipientAccountId", env("aws.iam", "111111111111", ""), central, `differs from detail.recipientAccountId ""`},
		{"canary from the central account", env(CanarySource, central, "000000000000"), central, ""},
		{"canary from a member account", env(CanarySource, "333333333333", "333333333333"), central, `from account "333333333333", not the central account 999988887777`},
		{"canary without a central account (replay)", env(CanarySource, central, central), "", "no central account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := ev.NotFromAWS(tt.central)
			if tt.want == "" && got != "" {
				t.Errorf("refused: %s", got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("reason %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
