package eventpattern

import (
	"encoding/json"
	"errors"
	"testing"
)

const event = `{
  "source": "aws.signin",
  "detail-type": "AWS Console Sign In via CloudTrail",
  "account": "444455556666",
  "detail": {
    "eventName": "ConsoleLogin",
    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::444455556666:root"},
    "responseElements": {"ConsoleLogin": "Success"},
    "additionalEventData": {"MFAUsed": "No"},
    "requestParameters": null,
    "readOnly": false,
    "resources": [{"type": "AWS::IAM::User"}, {"type": "AWS::IAM::Role"}],
    "tags": ["a", "b"],
    "count": 5
  }
}`

func TestMatch(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"exact", `{"source": ["aws.signin"]}`, true},
		{"exact, one of several", `{"source": ["aws.iam", "aws.signin"]}`, true},
		{"exact mismatch", `{"source": ["aws.iam"]}`, false},
		{"case-sensitive", `{"source": ["AWS.SIGNIN"]}`, false},
		{"nested", `{"detail": {"userIdentity": {"type": ["Root"]}}}`, true},
		{"nested mismatch", `{"detail": {"userIdentity": {"type": ["IAMUser"]}}}`, false},
		{"all fields must match", `{"source": ["aws.signin"], "detail": {"eventName": ["CheckMfa"]}}`, false},
		{"missing field", `{"detail": {"errorCode": ["AccessDenied"]}}`, false},
		{"nested pattern on a scalar", `{"account": {"id": ["444455556666"]}}`, false},
		{"leaf pattern on an object", `{"detail": {"userIdentity": ["Root"]}}`, false},
		{"null", `{"detail": {"requestParameters": [null]}}`, true},
		{"null does not match a missing field", `{"detail": {"errorCode": [null]}}`, false},
		{"boolean", `{"detail": {"readOnly": [false]}}`, true},
		{"boolean is not a string", `{"detail": {"readOnly": ["false"]}}`, false},
		{"number", `{"detail": {"count": [5]}}`, true},
		{"string is not a number", `{"account": [444455556666]}`, false},
		{"array: any element", `{"detail": {"tags": ["b"]}}`, true},
		{"array: no element", `{"detail": {"tags": ["c"]}}`, false},
		{"array of objects", `{"detail": {"resources": {"type": ["AWS::IAM::Role"]}}}`, true},
		{"prefix", `{"detail": {"userIdentity": {"arn": [{"prefix": "arn:aws:iam::444455556666:"}]}}}`, true},
		{"prefix mismatch", `{"detail": {"userIdentity": {"arn": [{"prefix": "arn:aws:sts::"}]}}}`, false},
		{"prefix on a number", `{"detail": {"count": [{"prefix": "5"}]}}`, false},
		{"anything-but value", `{"detail": {"eventName": [{"anything-but": "CheckMfa"}]}}`, true},
		{"anything-but excluded", `{"detail": {"eventName": [{"anything-but": "ConsoleLogin"}]}}`, false},
		{"anything-but list", `{"detail": {"eventName": [{"anything-but": ["CheckMfa", "ConsoleLogin"]}]}}`, false},
		{"anything-but prefix", `{"source": [{"anything-but": {"prefix": "aws."}}]}`, false},
		{"anything-but prefix other", `{"source": [{"anything-but": {"prefix": "custom."}}]}`, true},
		{"anything-but needs the field", `{"detail": {"errorCode": [{"anything-but": "AccessDenied"}]}}`, false},
		{"exists true", `{"detail": {"additionalEventData": {"MFAUsed": [{"exists": true}]}}}`, true},
		{"exists false on a present field", `{"detail": {"additionalEventData": {"MFAUsed": [{"exists": false}]}}}`, false},
		{"exists false on a missing field", `{"detail": {"errorCode": [{"exists": false}]}}`, true},
		{"exists false below a missing object", `{"detail": {"sessionContext": {"assumedRoot": [{"exists": false}]}}}`, true},
		{"exists true below a missing object", `{"detail": {"sessionContext": {"assumedRoot": [{"exists": true}]}}}`, false},
		{"exists true on an object (not a leaf)", `{"detail": {"userIdentity": [{"exists": true}]}}`, false},
		{"numeric range", `{"detail": {"count": [{"numeric": [">", 0, "<=", 5]}]}}`, true},
		{"numeric out of range", `{"detail": {"count": [{"numeric": ["<", 5]}]}}`, false},
		{"numeric equal", `{"detail": {"count": [{"numeric": ["=", 5]}]}}`, true},
		{"numeric on a string", `{"account": [{"numeric": [">", 0]}]}`, false},
		{"or of alternatives in a leaf", `{"detail": {"eventName": [{"prefix": "Check"}, "ConsoleLogin"]}}`, true},
		{"$or top-level", `{"$or": [{"source": ["aws.iam"]}, {"detail-type": ["AWS Console Sign In via CloudTrail"]}]}`, true},
		{"$or none", `{"$or": [{"source": ["aws.iam"]}, {"detail-type": ["AWS API Call via CloudTrail"]}]}`, false},
		{"$or with other fields", `{"source": ["aws.iam"], "$or": [{"account": ["444455556666"]}, {"detail-type": ["x"]}]}`, false},
		{"$or nested", `{"detail": {"$or": [{"eventName": ["x"]}, {"userIdentity": {"type": ["Root"]}}]}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.pattern))
			if err != nil {
				t.Fatal(err)
			}
			if got := Match(p, ev); got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestParseRejectsUnsupported(t *testing.T) {
	for _, p := range []string{
		`{}`,
		`{"source": "aws.iam"}`,
		`{"source": []}`,
		`{"source": [{"suffix": ".com"}]}`,
		`{"source": [{"equals-ignore-case": "AWS.IAM"}]}`,
		`{"source": [{"wildcard": "aws.*"}]}`,
		`{"source": [{"cidr": "10.0.0.0/24"}]}`,
		`{"source": [{"prefix": "a", "exists": true}]}`,
		`{"source": [{"anything-but": {"suffix": "x"}}]}`,
		`{"source": [{"numeric": ["~", 1]}]}`,
		`{"source": [{"numeric": [">"]}]}`,
		`{"$or": [{"source": ["a"]}]}`,
		`{"source": [["nested"]]}`,
		`not json`,
	} {
		if _, err := Parse([]byte(p)); err == nil {
			t.Errorf("Parse(%s) accepted an unsupported pattern", p)
		} else if p != "not json" && !errors.Is(err, ErrUnsupported) {
			t.Errorf("Parse(%s): %v, want ErrUnsupported", p, err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	var ev map[string]any
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		b.Fatal(err)
	}
	p, err := Parse([]byte(`{"$or": [{"source": ["aws.iam"]}, {"detail": {"userIdentity": {"type": ["Root"]}, "eventName": [{"anything-but": "CheckMfa"}]}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Match(p, ev)
	}
}
