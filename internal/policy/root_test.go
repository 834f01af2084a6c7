package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// denyWith is a one-statement policy: Deny * on * under the given Condition JSON.
func denyWith(condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Deny","Action":"*","Resource":"*","Condition":` + condition + `}]}`
}

func TestRootAimedDenies(t *testing.T) {
	const (
		acct  = "123456789012"
		other = "210987654321"
	)
	tests := []struct {
		name    string
		content string
		// want[account] is whether the statement is aimed at that account's root ("" = any).
		want map[string]bool
	}{
		{"StringLike any root", staxProtection, map[string]bool{"": true, acct: true}},
		{"StringLike as a string", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": true, acct: true}},
		{"StringLike in a list with a role", denyWith(`{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/Admin","arn:aws:iam::*:root"]}}`), map[string]bool{"": true, acct: true}},
		{"StringLike every IAM principal", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:*"}}`), map[string]bool{"": true, acct: true}},
		{"StringLike everything", denyWith(`{"StringLike":{"aws:PrincipalArn":"*"}}`), map[string]bool{"": true, acct: true}},
		{"StringLike single-character wildcards, 12", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::????????????:root"}}`), map[string]bool{"": true, acct: true}},
		{"StringLike single-character wildcards, 13", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::?????????????:root"}}`), map[string]bool{"": false, acct: false}},
		{"StringLike account prefix", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::1234*:root"}}`), map[string]bool{"": true, acct: true, other: false}},
		{"StringLike users only", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`), map[string]bool{"": false, acct: false}},
		{"StringLike other partition", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws-cn:iam::*:root"}}`), map[string]bool{"": false}},
		{"StringLike wrong case", denyWith(`{"StringLike":{"aws:PrincipalArn":"ARN:AWS:IAM::*:ROOT"}}`), map[string]bool{"": false}},
		{"StringEquals wildcard is literal", denyWith(`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false, acct: false}},
		{"StringEquals one account", denyWith(`{"StringEquals":{"aws:PrincipalArn":["arn:aws:iam::123456789012:root"]}}`), map[string]bool{"": true, acct: true, other: false}},
		{"StringEquals 11 digits", denyWith(`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::12345678901:root"}}`), map[string]bool{"": false}},
		{"ArnLike any root", denyWith(`{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`), map[string]bool{"": true, acct: true}},
		{"ArnEquals any root (ArnEquals takes wildcards)", denyWith(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": true, acct: true}},
		{"ArnLike every IAM principal", denyWith(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:*"}}`), map[string]bool{"": true}},
		{"ArnLike bare star is not an ARN", denyWith(`{"ArnLike":{"aws:PrincipalArn":"*"}}`), map[string]bool{"": false}},
		{"ArnLike star does not cross components", denyWith(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:*:root"}}`), map[string]bool{"": false}},
		{"ArnEquals one account", denyWith(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::210987654321:root"}}`), map[string]bool{"": true, acct: false, other: true}},
		{"ForAnyValue:StringLike", denyWith(`{"ForAnyValue:StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": true, acct: true}},
		{"ForAnyValue:ArnEquals", denyWith(`{"ForAnyValue:ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": true}},
		{"operator and key in other case", denyWith(`{"forANYvalue:stringlike":{"AWS:PRINCIPALARN":"arn:aws:iam::*:root"}}`), map[string]bool{"": true, acct: true}},
		{"ForAllValues: is not listed", denyWith(`{"ForAllValues:StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false}},
		{"IfExists is not listed", denyWith(`{"StringLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false}},
		{"StringEqualsIgnoreCase is not listed", denyWith(`{"StringEqualsIgnoreCase":{"aws:PrincipalArn":"arn:aws:iam::123456789012:root"}}`), map[string]bool{"": false}},
		{"StringNotLike exempts", denyWith(`{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false, acct: false}},
		{"StringNotEquals exempts", denyWith(`{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:root"}}`), map[string]bool{"": false, acct: false, other: false}},
		{"ArnNotLike exempts", denyWith(`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/stax-*"}}`), map[string]bool{"": false}},
		{"ArnNotEquals exempts", denyWith(`{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false}},
		{"targeted then exempted", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), map[string]bool{"": false, acct: false}},
		{"targeted, one account exempted", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:root"}}`), map[string]bool{"": true, acct: false, other: true}},
		{"two targeting conditions must both hold", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::210987654321:root"}}`), map[string]bool{"": true, acct: false, other: true}},
		{"other keys do not matter", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`), map[string]bool{"": true}},
		{"an operator that cannot be read on the key", denyWith(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"NumericLessThan":{"aws:PrincipalArn":"5"}}`), map[string]bool{"": false}},
		{"another key", denyWith(`{"StringLike":{"aws:PrincipalAccount":"*","aws:userid":"*"}}`), map[string]bool{"": false}},
		{"no condition", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, map[string]bool{"": false}},
		{"NotAction Deny", `{"Statement":[{"Effect":"Deny","NotAction":"sts:AssumeRoot","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`, map[string]bool{"": true}},
		{"Allow", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`, map[string]bool{"": false, acct: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse(tt.content)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for account, want := range tt.want {
				got := doc.RootAimedDenies(account)
				if (len(got) == 1) != want || len(got) > 1 {
					t.Errorf("RootAimedDenies(%q) = %d statements, want aimed=%v", account, len(got), want)
				}
				if want {
					if diff := cmp.Diff(doc.Statements[0], got[0]); diff != "" {
						t.Errorf("RootAimedDenies(%q) statement mismatch (-want +got):\n%s", account, diff)
					}
				}
				if account == "" && doc.DeniesRoot() != want {
					t.Errorf("DeniesRoot() = %v, want %v", doc.DeniesRoot(), want)
				}
			}
		})
	}
}

// TestRootAimedDeniesPicksStatements: only the aimed statements come back, in order.
func TestRootAimedDeniesPicksStatements(t *testing.T) {
	doc, err := Parse(variantMulti)
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, s := range doc.RootAimedDenies("") {
		sids = append(sids, s.Sid)
	}
	want := []string{"DenyRootUser", "DenyRootAccessKeys"}
	if diff := cmp.Diff(want, sids); diff != "" {
		t.Errorf("aimed statements (-want +got):\n%s", diff)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, q            string
		arn             bool
		incl, intersect bool
	}{
		{"*", "iam:CreateUser", false, true, true},
		{"iam:*", "iam:CreateUser", false, true, true},
		{"iam:*", "iam:Create*", false, true, true},
		{"iam:Create*", "iam:*", false, false, true},
		{"iam:Create*", "iam:Delete*", false, false, false},
		{"iam:CreateUser", "iam:CreateUser", false, true, true},
		{"iam:CreateUser", "iam:CreateUsers", false, false, false},
		{"iam:?reate*", "iam:Create*", false, true, true},
		{"iam:Create?", "iam:Create*", false, false, true},
		{"a*b*c", "a*c", false, false, true},
		{"a*c", "a*b*c", false, true, true},
		{"s3:*", "iam:*", false, false, false},
		{"*", "*", true, true, true},
		{"arn:aws:iam::*:root", "arn:aws:iam::123456789012:root", true, true, true},
		{"arn:aws:iam::*:*", "arn:aws:iam::*:root", true, true, true},
		{"arn:aws:iam::*:root", "arn:aws:iam::*:*", true, false, true},
		{"arn:aws:iam::*", "arn:aws:iam::1:root", true, false, false}, // '*' stays inside a component
	}
	for _, tt := range tests {
		t.Run(tt.p+" vs "+tt.q, func(t *testing.T) {
			p, q := compile(tt.p, true, tt.arn), compile(tt.q, true, tt.arn)
			if got := includes(newBudget(compareWork), p, q); got != tt.incl {
				t.Errorf("includes = %v, want %v", got, tt.incl)
			}
			if got := intersects(newBudget(compareWork), p, q); got != tt.intersect {
				t.Errorf("intersects = %v, want %v", got, tt.intersect)
			}
			if got := intersects(newBudget(compareWork), q, p); got != tt.intersect {
				t.Errorf("intersects reversed = %v, want %v", got, tt.intersect)
			}
		})
	}
}
