package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// staxProtection is the Stax-style protection SCP: deny every action to every root user.
const staxProtection = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    *Document
	}{
		{
			name:    "stax protection",
			content: staxProtection,
			want: &Document{Version: "2012-10-17", Statements: []Statement{{
				Sid: "DenyRootUser", Effect: Deny, Action: []string{"*"}, Resource: []string{"*"},
				Conditions: []Condition{{Operator: "StringLike", Key: "aws:PrincipalArn", Values: []string{"arn:aws:iam::*:root"}}},
			}}},
		},
		{
			name:    "statement as one object, strings, no Resource",
			content: `{"Statement":{"Effect":"Deny","Action":"iam:CreateUser"}}`,
			want: &Document{Statements: []Statement{{
				Effect: Deny, Action: []string{"iam:CreateUser"}, Resource: []string{"*"},
			}}},
		},
		{
			name: "lists, NotAction, NotResource, Id, indices",
			content: `{"Version":"2012-10-17","Id":"protect","Statement":[
				{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]},
				{"Sid":"B","Effect":"Deny","NotAction":["sts:AssumeRoot"],"NotResource":"arn:aws:s3:::b"}]}`,
			want: &Document{Version: "2012-10-17", ID: "protect", Statements: []Statement{
				{Index: 0, Sid: "A", Effect: Allow, Action: []string{"s3:GetObject", "s3:PutObject"}, Resource: []string{"arn:aws:s3:::b/*"}},
				{Index: 1, Sid: "B", Effect: Deny, NotAction: []string{"sts:AssumeRoot"}, NotResource: []string{"arn:aws:s3:::b"}},
			}},
		},
		{
			name: "condition values: string, list, bool, number; several operators and keys",
			content: `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{
				"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root","aws:userid":["AIDA*","AROA*"]},
				"Bool":{"aws:MultiFactorAuthPresent":false},
				"NumericLessThan":{"aws:MultiFactorAuthAge":[3600, 1.5e3]}}}]}`,
			want: &Document{Statements: []Statement{{
				Effect: Deny, Action: []string{"*"}, Resource: []string{"*"},
				Conditions: []Condition{
					{Operator: "StringLike", Key: "aws:PrincipalArn", Values: []string{"arn:aws:iam::*:root"}},
					{Operator: "StringLike", Key: "aws:userid", Values: []string{"AIDA*", "AROA*"}},
					{Operator: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}},
					{Operator: "NumericLessThan", Key: "aws:MultiFactorAuthAge", Values: []string{"3600", "1.5e3"}},
				},
			}}},
		},
		{
			name:    "element names and Effect in any case",
			content: `{"version":"2012-10-17","statement":[{"sid":"x","effect":"deny","action":"*","resource":"*"}]}`,
			want: &Document{Version: "2012-10-17", Statements: []Statement{{
				Sid: "x", Effect: Deny, Action: []string{"*"}, Resource: []string{"*"},
			}}},
		},
		{
			name:    "principal: star and object",
			content: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"},{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"s3:*"}]}`,
			want: &Document{Statements: []Statement{
				{Index: 0, Effect: Allow, Principal: map[string][]string{"*": {"*"}}, Action: []string{"s3:GetObject"}, Resource: []string{"*"}},
				{Index: 1, Effect: Deny, NotPrincipal: map[string][]string{"AWS": {"arn:aws:iam::111122223333:root"}}, Action: []string{"s3:*"}, Resource: []string{"*"}},
			}},
		},
		{
			name:    "empty lists",
			content: `{"Statement":[{"Effect":"Deny","Action":[],"Resource":[]}]}`,
			want: &Document{Statements: []Statement{{
				Effect: Deny, Action: []string{}, Resource: []string{},
			}}},
		},
		{
			name:    "empty statement list",
			content: ` {"Statement":[]} `,
			want:    &Document{Statements: []Statement{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.content)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			// MarshalJSON writes a document that parses back to the same.
			out, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			again, err := Parse(string(out))
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, out)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip mismatch (-first +second):\n%s\n%s", diff, out)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := `{"Statement":[{"Effect":"Deny","Action":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}]}`
	tests := []struct {
		name    string
		content string
		want    string // the error text
	}{
		{"empty", "", "the document is empty"},
		{"blank", " \n\t", "the document is empty"},
		{"not JSON", "Statement: deny", "invalid JSON at byte 1: invalid character 'S' looking for beginning of value"},
		{"truncated", `{"Statement":[`, "invalid JSON at byte 14: unexpected end of JSON input"},
		{"trailing data", `{"Statement":[]} {}`, "invalid JSON at byte 18: invalid character '{' after top-level value"},
		{"a list", `[]`, "a list where a policy document (a JSON object) belongs"},
		{"a string", `"x"`, "a string where a policy document (a JSON object) belongs"},
		{"no statement", `{"Version":"2012-10-17"}`, "the document has no Statement"},
		{"unknown top element", `{"Statement":[],"Statements":[]}`, `unknown element "Statements" in the document`},
		{"version a number", `{"Version":2012,"Statement":[]}`, "Version: a JSON number where a string belongs"},
		{"statement a string", `{"Statement":"deny"}`, "Statement: a string where a statement or a list of statements belongs"},
		{"statement element null", `{"Statement":[null]}`, "Statement[0]: null where a statement (a JSON object) belongs"},
		{
			"action a number (the brief's example)",
			`{"Statement":[{"Effect":"Deny","Action":"*"},{"Effect":"Deny","Action":"*"},{"Effect":"Deny","Action":5}]}`,
			"Statement[2].Action: a JSON number where a string or list of strings belongs",
		},
		{"action element a number", `{"Statement":[{"Effect":"Deny","Action":["iam:*",5]}]}`, "Statement[0].Action[1]: a JSON number where a string belongs"},
		{"resource an object", `{"Statement":{"Effect":"Deny","Action":"*","Resource":{}}}`, "Statement.Resource: a JSON object where a string or list of strings belongs"},
		{"effect missing", `{"Statement":[{"Action":"*"}]}`, "Statement[0]: Effect is missing"},
		{"effect unknown", `{"Statement":[{"Effect":"Block","Action":"*"}]}`, `Statement[0].Effect: "Block" is neither "Allow" nor "Deny"`},
		{"effect a bool", `{"Statement":[{"Effect":true,"Action":"*"}]}`, `Statement[0].Effect: a JSON boolean where "Allow" or "Deny" belongs`},
		{"sid a number", `{"Statement":[{"Sid":1,"Effect":"Deny","Action":"*"}]}`, "Statement[0].Sid: a JSON number where a string belongs"},
		{"no action", `{"Statement":[{"Effect":"Deny","Resource":"*"}]}`, "Statement[0]: has neither Action nor NotAction"},
		{"action and notaction", `{"Statement":[{"Effect":"Deny","Action":"*","NotAction":"iam:*"}]}`, "Statement[0]: has both Action and NotAction"},
		{"resource and notresource", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","NotResource":"x"}]}`, "Statement[0]: has both Resource and NotResource"},
		{"unknown statement element", `{"Statement":[{"Effect":"Deny","Action":"*","Actions":"x"}]}`, `Statement[0]: unknown element "Actions"`},
		{"duplicate element", `{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*"}]}`, `Statement[0]: "Effect" appears twice`},
		{"duplicate in other case", `{"Statement":[{"Effect":"Deny","Action":"*","action":"iam:*"}]}`, `Statement[0]: "Action" and "action" both appear (names are case-insensitive)`},
		{"duplicate condition key", `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":{"aws:PrincipalArn":"a","AWS:PrincipalArn":"b"}}}]}`, `Statement[0].Condition.StringLike: "aws:PrincipalArn" and "AWS:PrincipalArn" both appear (names are case-insensitive)`},
		{"condition a list", `{"Statement":[{"Effect":"Deny","Action":"*","Condition":[]}]}`, "Statement[0].Condition: a list where an object of condition operators belongs"},
		{"condition operator a string", `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":"x"}}]}`, "Statement[0].Condition.StringLike: a string where an object of condition keys belongs"},
		{"condition value null", `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":{"aws:PrincipalArn":null}}}]}`, "Statement[0].Condition.StringLike.aws:PrincipalArn: null where a string, a list of strings, a boolean or a number belongs"},
		{"condition list element an object", `{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":{"aws:PrincipalArn":["a",{}]}}}]}`, "Statement[0].Condition.StringLike.aws:PrincipalArn[1]: a JSON object where a string, a boolean or a number belongs"},
		{"control characters in a name are quoted", "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Condition\":{\"StringLike\":{\"a\\nb\":{}}}}]}", `Statement[0].Condition.StringLike."a\nb": a JSON object where a string, a list of strings, a boolean or a number belongs`},
		{"principal a bad string", `{"Statement":[{"Effect":"Deny","Action":"*","Principal":"me"}]}`, `Statement[0].Principal: "me" where "*" or an object of principal types belongs`},
		{"too deep", deep, "Statement[0].Action[0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 16 levels"},
		{"too large", `{"Statement":[],"Id":"` + strings.Repeat("x", MaxContentBytes) + `"}`, "the document is 65560 bytes; the limit is 65536 (an SCP has at most 5,120 characters)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse(tt.content)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", doc)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) is false", err)
			}
		})
	}
}

// TestParseLimit: a document of exactly MaxContentBytes is read.
func TestParseLimit(t *testing.T) {
	head, tail := `{"Statement":[],"Id":"`, `"}`
	content := head + strings.Repeat("x", MaxContentBytes-len(head)-len(tail)) + tail
	if len(content) != MaxContentBytes {
		t.Fatalf("test content is %d bytes", len(content))
	}
	if _, err := Parse(content); err != nil {
		t.Errorf("Parse of %d bytes: %v", len(content), err)
	}
}
