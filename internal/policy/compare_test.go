package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// variantMulti is a protection SCP of several statements: root denied everything, nobody may
// leave the organization, root key and MFA changes denied again, Stax roles protected.
const variantMulti = `{"Version":"2012-10-17","Statement":[
 {"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}},
 {"Sid":"DenyLeaveOrganization","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},
 {"Sid":"DenyRootAccessKeys","Effect":"Deny","Action":["iam:CreateAccessKey","iam:DeactivateMFADevice","iam:DeleteVirtualMFADevice"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}},
 {"Sid":"ProtectStaxRoles","Effect":"Deny","Action":["iam:AttachRolePolicy","iam:DeleteRole","iam:DetachRolePolicy","iam:PutRolePolicy","iam:UpdateAssumeRolePolicy"],"Resource":"arn:aws:iam::*:role/staxrole-*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/staxrole-*"}}}
]}`

// variantActions denies root a list of actions rather than everything.
const variantActions = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootActions","Effect":"Deny","Action":["iam:CreateAccessKey","iam:CreateLoginProfile","iam:DeactivateMFADevice","organizations:LeaveOrganization"],"Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`

// variantAllow adds an Allow to the Stax protection.
const variantAllow = `{"Version":"2012-10-17","Statement":[
 {"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}},
 {"Sid":"AllowStorage","Effect":"Allow","Action":["s3:*","dynamodb:*"],"Resource":"*"}]}`

// rootDeny writes the Stax statement with other parts.
func rootDeny(actionPart, resourcePart, condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUser","Effect":"Deny",` + actionPart + resourcePart + `"Condition":` + condition + `}]}`
}

const rootCond = `{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`

const noRootReason = "the new content has no Deny aimed at root (a StringLike, StringEquals, ArnLike or ArnEquals condition on aws:PrincipalArn matching arn:aws:iam::*:root or an account's root)"

func TestCompare(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     Change
	}{
		// Weakened: the cases rules.md names.
		{
			name: "action narrowed",
			old:  staxProtection,
			new:  rootDeny(`"Action":"iam:*",`, `"Resource":"*",`, rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its Action no longer covers *)`}},
		},
		{
			name: "star replaced by a list",
			old:  staxProtection,
			new:  rootDeny(`"Action":["iam:*","organizations:*","sts:*"],`, `"Resource":"*",`, rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its Action no longer covers *)`}},
		},
		{
			name: "list action dropped",
			old:  variantActions,
			new:  strings.Replace(variantActions, `"iam:CreateLoginProfile",`, "", 1),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootActions" on iam:CreateLoginProfile for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootActions" there: its Action no longer covers iam:CreateLoginProfile)`}},
		},
		{
			name: "wildcard narrowed",
			old:  rootDeny(`"Action":"iam:Create*",`, "", rootCond),
			new:  rootDeny(`"Action":"iam:CreateUser",`, "", rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on iam:Create* for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its Action no longer covers iam:Create*)`}},
		},
		{
			name: "NotAction added",
			old:  staxProtection,
			new:  rootDeny(`"NotAction":["iam:CreateUser","iam:ListUsers"],`, `"Resource":"*",`, rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its NotAction iam:CreateUser exempts part of *)`}},
		},
		{
			name: "NotAction exempts more",
			old:  rootDeny(`"NotAction":"sts:AssumeRoot",`, "", rootCond),
			new:  rootDeny(`"NotAction":["sts:AssumeRoot","iam:*"],`, "", rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on every action except sts:AssumeRoot for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its NotAction also exempts iam:*)`}},
		},
		{
			name: "resource narrowed",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"arn:aws:iam::*:user/*",`, rootCond),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its Resource no longer covers *)`}},
		},
		{
			name: "condition key added",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"*",`, `{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]},"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: it adds or narrows the condition StringEquals aws:RequestedRegion eu-west-1)`}},
		},
		{
			name: "statement removed",
			old:  staxProtection,
			new:  `{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`,
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content`, noRootReason}},
		},
		{
			name: "one of two root statements removed",
			old:  variantMulti,
			new:  strings.Replace(variantMulti, `{"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}},`, "", 1),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content`}},
		},
		{
			name: "Effect changed to Allow",
			old:  staxProtection,
			new:  strings.Replace(staxProtection, `"Deny"`, `"Allow"`, 1),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its Effect is now Allow)`, noRootReason}},
		},
		{
			name: "root condition removed",
			old:  staxProtection,
			new:  `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*"}]}`,
			want: Change{Kind: Weakened, Reasons: []string{noRootReason}},
		},
		{
			name: "root condition negated",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"*",`, `{"StringNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its aws:PrincipalArn condition no longer selects arn:aws:iam::000000000000:root)`, noRootReason}},
		},
		{
			name: "root condition made literal",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"*",`, `{"StringEquals":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its aws:PrincipalArn condition no longer selects arn:aws:iam::000000000000:root)`, noRootReason}},
		},
		{
			name: "root condition narrowed to one account",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"*",`, `{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::444455556666:root"]}}`),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its aws:PrincipalArn condition no longer selects arn:aws:iam::000000000000:root)`}},
		},
		{
			name: "one account exempted",
			old:  staxProtection,
			new:  rootDeny(`"Action":"*",`, `"Resource":"*",`, `{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]},"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:root"}}`),
			want: Change{Kind: Weakened, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content ("DenyRootUser" there: its aws:PrincipalArn condition no longer selects arn:aws:iam::444455556666:root)`}},
		},
		{
			name: "no root Deny before or after",
			old:  `{"Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization"}]}`,
			new:  `{"Statement":[{"Effect":"Deny","Action":"organizations:*"}]}`,
			want: Change{Kind: Weakened, Reasons: []string{noRootReason}},
		},
		{
			name: "same content without a root Deny",
			old:  `{"Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization"}]}`,
			new:  `{"Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization"}]}`,
			want: Change{Kind: Weakened, Reasons: []string{"the content is unchanged, but " + noRootReason}},
		},

		// Tightened.
		{
			name: "new statement added",
			old:  staxProtection,
			new:  strings.TrimSuffix(staxProtection, `]}`) + `,{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`,
			want: Change{Kind: Tightened, Reasons: []string{`the new content adds the Deny "DenyLeave" on organizations:LeaveOrganization`}},
		},
		{
			name: "action added to a Deny",
			old:  variantActions,
			new:  strings.Replace(variantActions, `"iam:CreateAccessKey",`, `"iam:CreateAccessKey","iam:DeleteLoginProfile",`, 1),
			want: Change{Kind: Tightened, Reasons: []string{
				`the new content adds the Deny "DenyRootActions" on iam:CreateAccessKey, iam:CreateLoginProfile, iam:DeactivateMFADevice, iam:DeleteLoginProfile, organizations:LeaveOrganization for arn:aws:iam::*:root`,
				`the new content replaces the Deny "DenyRootActions" on iam:CreateAccessKey, iam:CreateLoginProfile, iam:DeactivateMFADevice, organizations:LeaveOrganization for arn:aws:iam::*:root with broader Denies`,
			}},
		},
		{
			name: "list replaced by star",
			old:  variantActions,
			new:  strings.Replace(staxProtection, "DenyRootUser", "DenyRootActions", 1),
			want: Change{Kind: Tightened, Reasons: []string{
				`the new content adds the Deny "DenyRootActions" on * for arn:aws:iam::*:root`,
				`the new content replaces the Deny "DenyRootActions" on iam:CreateAccessKey, iam:CreateLoginProfile, iam:DeactivateMFADevice, organizations:LeaveOrganization for arn:aws:iam::*:root with broader Denies`,
			}},
		},
		{
			name: "actions replaced by a covering wildcard",
			old:  rootDeny(`"Action":["iam:CreateUser","iam:CreateAccessKey"],`, "", rootCond),
			new:  rootDeny(`"Action":"IAM:Create*",`, "", rootCond),
			want: Change{Kind: Tightened, Reasons: []string{
				`the new content adds the Deny "DenyRootUser" on IAM:Create* for arn:aws:iam::*:root`,
				`the new content replaces the Deny "DenyRootUser" on iam:CreateAccessKey, iam:CreateUser for arn:aws:iam::*:root with broader Denies`,
			}},
		},
		{
			name: "one account widened to every account",
			old:  rootDeny(`"Action":"*",`, "", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:root"}}`),
			new:  rootDeny(`"Action":"*",`, "", `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`),
			want: Change{Kind: Tightened, Reasons: []string{
				`the new content adds the Deny "DenyRootUser" on * for arn:aws:iam::*:root`,
				`the new content replaces the Deny "DenyRootUser" on * for arn:aws:iam::444455556666:root with broader Denies`,
			}},
		},
		{
			name: "condition removed from a narrowed root Deny",
			old:  rootDeny(`"Action":"*",`, "", `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`),
			new:  staxProtection,
			want: Change{Kind: Tightened, Reasons: []string{
				`the new content adds the Deny "DenyRootUser" on * for arn:aws:iam::*:root`,
				`the new content replaces the Deny "DenyRootUser" on * for arn:aws:iam::*:root with broader Denies`,
			}},
		},
		{
			name: "Allow removed",
			old:  variantAllow,
			new:  staxProtection,
			want: Change{Kind: Tightened, Reasons: []string{`the new content removes or narrows the Allow "AllowStorage" on dynamodb:*, s3:*`}},
		},

		// Unchanged.
		{name: "identical", old: staxProtection, new: staxProtection, want: Change{Kind: Unchanged}},
		{
			name: "reordered, Sids renamed, whitespace and case",
			old:  variantMulti,
			new: `{"Version": "2012-10-17",
			  "Statement": [
			    {"Sid": "ProtectRoles", "Effect": "Deny", "Resource": ["arn:aws:iam::*:role/staxrole-*"],
			     "Action": ["iam:UpdateAssumeRolePolicy", "iam:putrolepolicy", "iam:DetachRolePolicy", "iam:DeleteRole", "iam:AttachRolePolicy"],
			     "Condition": {"arnNotLike": {"aws:principalArn": "arn:aws:iam::*:role/staxrole-*"}}},
			    {"Effect": "Deny", "Action": ["iam:DeleteVirtualMFADevice", "iam:DeactivateMFADevice", "iam:CreateAccessKey"],
			     "Condition": {"ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}}},
			    {"Sid": "Leave", "Effect": "deny", "Action": ["organizations:LeaveOrganization"], "Resource": "*"},
			    {"Sid": "Root", "Effect": "Deny", "Action": "*", "Resource": "*",
			     "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}
			  ]}`,
			want: Change{Kind: Unchanged},
		},
		{
			name: "Deny split in two statements",
			old:  rootDeny(`"Action":["iam:CreateAccessKey","iam:CreateLoginProfile"],`, "", rootCond),
			new: `{"Statement":[
				{"Effect":"Deny","Action":"iam:CreateAccessKey","Condition":` + rootCond + `},
				{"Effect":"Deny","Action":"iam:CreateLoginProfile","Condition":` + rootCond + `}]}`,
			want: Change{Kind: Unchanged},
		},
		{
			name: "redundant action added",
			old:  staxProtection,
			new:  rootDeny(`"Action":["*","iam:CreateUser"],`, `"Resource":"*",`, rootCond),
			want: Change{Kind: Unchanged},
		},

		// Other.
		{
			name: "non-root Deny removed",
			old:  variantMulti,
			new:  strings.Replace(variantMulti, `{"Sid":"DenyLeaveOrganization","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},`, "", 1),
			want: Change{Kind: Other, Reasons: []string{`the Deny "DenyLeaveOrganization" on organizations:LeaveOrganization is not covered by the new content's Denies`}},
		},
		{
			name: "non-root Deny narrowed",
			old:  variantMulti,
			new:  strings.Replace(variantMulti, `"iam:DeleteRole",`, "", 1),
			want: Change{Kind: Other, Reasons: []string{`the Deny "ProtectStaxRoles" on iam:DeleteRole in arn:aws:iam::*:role/staxrole-* is not covered by the new content's Denies ("ProtectStaxRoles" there: its Action no longer covers iam:DeleteRole)`}},
		},
		{
			name: "Allow broadened",
			old:  variantAllow,
			new:  strings.Replace(variantAllow, `["s3:*","dynamodb:*"]`, `"*"`, 1),
			want: Change{Kind: Other, Reasons: []string{`the Allow "AllowStorage" on * is new, or grants more than the old content's Allows`}},
		},
		{
			name: "root condition rewritten with another operator",
			old:  staxProtection,
			new:  strings.Replace(staxProtection, "StringLike", "ArnLike", 1),
			want: Change{Kind: Other, Reasons: []string{`the Deny "DenyRootUser" on * for arn:aws:iam::*:root is not covered by the new content's Denies ("DenyRootUser" there: it adds or narrows the condition ArnLike aws:PrincipalArn arn:aws:iam::*:root)`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compare(tt.old, tt.new)
			if err != nil {
				t.Fatalf("Compare: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Compare mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		side     error
		want     string
	}{
		{"old not JSON", "{", staxProtection, ErrOldContent, "old content: invalid JSON at byte 1: unexpected end of JSON input"},
		{"new not JSON", staxProtection, "", ErrNewContent, "new content: the document is empty"},
		{"new bad action", staxProtection, `{"Statement":{"Effect":"Deny","Action":1}}`, ErrNewContent, "new content: Statement.Action: a JSON number where a string or list of strings belongs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.old, tt.new)
			if err == nil {
				t.Fatal("Compare succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, tt.side) || !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, %v / ErrInvalid) is false", err, tt.side)
			}
		})
	}
}

func TestCompareUnknownOld(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    Change
	}{
		{
			name:    "still denies root",
			content: variantMulti,
			want: Change{Kind: Other, Reasons: []string{
				`the previous content is unknown; the new content still denies root through the Deny "DenyRootUser" on * for arn:aws:iam::*:root, the Deny "DenyRootAccessKeys" on iam:CreateAccessKey, iam:DeactivateMFADevice, iam:DeleteVirtualMFADevice for arn:aws:iam::*:root`,
			}},
		},
		{
			name:    "no root Deny",
			content: `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`,
			want:    Change{Kind: Weakened, Reasons: []string{"the previous content is unknown and " + noRootReason}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CompareUnknownOld(tt.content)
			if err != nil {
				t.Fatalf("CompareUnknownOld: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := CompareUnknownOld("[]"); !errors.Is(err, ErrNewContent) {
		t.Errorf("CompareUnknownOld([]) error = %v, want ErrNewContent", err)
	}
}

// TestReasonsQuotePolicyText: text from the policy cannot break a finding's lines.
func TestReasonsQuotePolicyText(t *testing.T) {
	old := `{"Statement":[{"Sid":"Deny\nRoot","Effect":"Deny","Action":"iam:Create\u0007User","Condition":` + rootCond + `}]}`
	got, err := Compare(old, `{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":`+rootCond+`}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Change{Kind: Weakened, Reasons: []string{`the Deny "Deny\nRoot" on "iam:Create\aUser" for arn:aws:iam::*:root has no counterpart in the new content`}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Unchanged: "unchanged", Tightened: "tightened", Weakened: "weakened", Other: "other", Kind(0): "Kind(0)", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
