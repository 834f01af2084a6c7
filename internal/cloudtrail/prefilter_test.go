package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/route"
)

// TestMayMatterSamples proves MayMatter a superset on every sample event of the project.
func TestMayMatterSamples(t *testing.T) {
	for path, recs := range sampleRecords(t) {
		for i, raw := range recs {
			ev, err := Decode(raw)
			if err != nil || !matters(ev) {
				continue
			}
			if !testPrefilter.MayMatter(raw) || !streamMayMatter(t, raw) {
				t.Errorf("%s: record %d (%s %s) can raise a finding but MayMatter says no", path, i+1, ev.EventSource, ev.EventName)
			}
		}
	}
}

// escapeSome rewrites a JSON text so that some ASCII letters inside strings (keys included) are
// written as \u escapes, as any JSON writer may.
func escapeSome(rng *rand.Rand, js []byte, p float64) []byte {
	var out []byte
	in, esc := false, false
	for _, c := range js {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case in && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && rng.Float64() < p:
			out = fmt.Appendf(out, `\u%04x`, c)
			continue
		}
		out = append(out, c)
	}
	return out
}

// genRecord builds a CloudTrail record (or EventBridge event) of a random kind.
func genRecord(rng *rand.Rand) map[string]any {
	identities := []map[string]any{
		{"type": "Root", "arn": "arn:aws:iam::444455556666:root", "accountId": "444455556666"},
		{"type": "Root", "arn": "arn:aws:iam::444455556666:root", "sessionContext": map[string]any{"assumedRoot": "true"}},
		{"type": "Root", "invokedBy": "support.amazonaws.com"},
		{"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"},
		{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/s", "sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role"}}},
		{"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
	}
	sources := []string{SourceSignIn, SourceIAM, SourceSTS, SourceOrganizations, SourceControlTower,
		"s3.amazonaws.com", "ec2.amazonaws.com", "kms.amazonaws.com", "lambda.amazonaws.com"}
	names := []string{"ConsoleLogin", "AssumeRoot", "AssumeRole", "GetObject", "DetachPolicy", "CreateAccessKey", "DescribeInstances", "CreateManagedAccount"}
	rec := map[string]any{
		"eventVersion":       "1.08",
		"userIdentity":       identities[rng.IntN(len(identities))],
		"eventTime":          "2024-05-01T12:00:00Z",
		"eventSource":        sources[rng.IntN(len(sources))],
		"eventName":          names[rng.IntN(len(names))],
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    "192.0.2.1",
		"userAgent":          "aws-cli/2.15.0",
		"requestParameters":  map[string]any{"targetPrincipal": "444455556666", "bucketName": "logs"},
		"eventID":            fmt.Sprintf("id-%d", rng.Int()),
		"readOnly":           rng.IntN(2) == 0,
		"recipientAccountId": "111122223333",
	}
	if rng.IntN(10) == 0 {
		rec["additionalEventData"] = map[string]any{"rootguardCanary": "true"}
	}
	if rng.IntN(3) == 0 {
		return map[string]any{"version": "0", "id": fmt.Sprintf("eb-%d", rng.Int()), "detail-type": DetailTypeAPICall,
			"source": "aws.x", "account": "111122223333", "detail": rec}
	}
	return rec
}

// TestMayMatterGenerated proves MayMatter a superset on generated records of every kind, some
// with \u escapes or pretty-printed, and checks that it drops ordinary records.
func TestMayMatterGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mattered, dropped := 0, 0
	for i := range 20000 {
		var js []byte
		var err error
		if i%2 == 0 {
			js, err = json.Marshal(genRecord(rng))
		} else {
			js, err = json.MarshalIndent(genRecord(rng), "", "  ")
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			js = escapeSome(rng, js, 0.2)
		}
		ev, err := Decode(js)
		if err != nil {
			t.Fatalf("generated record %d does not decode: %v\n%s", i, err, js)
		}
		switch {
		case matters(ev) && (!testPrefilter.MayMatter(js) || !streamMayMatter(t, js)):
			t.Errorf("generated record %d can raise a finding but MayMatter says no:\n%s", i, js)
		case matters(ev):
			mattered++
		case !testPrefilter.MayMatter(js):
			dropped++
		}
	}
	if mattered < 1000 || dropped < 1000 {
		t.Errorf("the generator made %d records that matter and MayMatter dropped %d others; want both over 1000", mattered, dropped)
	}
}

// streamMayMatter is RawRecord.MayMatter for one JSON value.
func streamMayMatter(t *testing.T, raw []byte) bool {
	t.Helper()
	s := newStreamSize(bytes.NewReader(raw), 4096, 512)
	s.SetPrefilter(testPrefilter)
	rec, err := s.Next()
	if err != nil {
		t.Fatalf("stream %q: %v", raw, err)
	}
	return rec.MayMatter()
}

func TestMayMatter(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{"root identity", `{"userIdentity":{"type":"Root"},"eventSource":"s3.amazonaws.com","eventName":"ListBuckets"}`, true},
		{"organizations", `{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy"}`, true},
		{"trusted principal change", `{"eventSource":"iam.amazonaws.com","eventName":"UpdateAssumeRolePolicy"}`, true},
		{"IAM read", `{"eventSource":"iam.amazonaws.com","eventName":"GetRole"}`, false},
		{"control tower", `{"eventSource":"controltower.amazonaws.com","eventName":"CreateManagedAccount"}`, true},
		{"sign-in", `{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin"}`, true},
		{"AssumeRoot", `{"eventSource":"sts.amazonaws.com","eventName":"AssumeRoot"}`, true},
		{"canary", `{"source":"rootguard.canary","detail":{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","additionalEventData":{"rootguardCanary":"true"}}}`, true},
		{"canary marker on another call", `{"eventSource":"s3.amazonaws.com","eventName":"GetObject","additionalEventData":{"rootguardCanary":"true"}}`, false},
		{"Lambda tamper call", `{"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionCode20150331v2"}`, true},
		{"Organizations read", `{"eventSource":"organizations.amazonaws.com","eventName":"ListAccounts"}`, false},
		{"escape", `{"eventSource":"s3.amazonaws.com","eventName":"\u0047etObject"}`, true},
		{"role calling S3", `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s"},"eventSource":"s3.amazonaws.com","eventName":"GetObject"}`, false},
		{"AssumeRole", `{"userIdentity":{"type":"AWSService"},"eventSource":"sts.amazonaws.com","eventName":"AssumeRole"}`, false},
		{"escaped backslash", `{"eventSource":"s3.amazonaws.com","eventName":"GetObject","key":"a\\b"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testPrefilter.MayMatter([]byte(tt.raw)); got != tt.want {
				t.Errorf("testPrefilter.MayMatter(%s) = %v, want %v", tt.raw, got, tt.want)
			}
			if got := streamMayMatter(t, []byte(tt.raw)); got != tt.want {
				t.Errorf("RawRecord.MayMatter(%s) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCheckShape(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want error // nil, ErrNotEvent or ErrWrongType
		msg  string
	}{
		{"record", `{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"IAMUser"}}`, nil, ""},
		{"pretty record", "{\n  \"eventName\" : \"GetObject\",\n  \"eventSource\"\t:\n \"s3.amazonaws.com\"\n}", nil, ""},
		{"EventBridge event", `{"detail-type":"x","detail":{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}}`, nil, ""},
		{"keys in another case", `{"EventSource":"s3.amazonaws.com","EVENTNAME":"GetObject"}`, nil, ""},
		{"array", `[{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}]`, ErrNotEvent, "a JSON array, not an object"},
		{"string", `"eventName"`, ErrNotEvent, "a JSON string, not an object"},
		{"no eventSource", `{"eventName":"GetObject"}`, ErrNotEvent, "no eventSource"},
		{"empty eventName", `{"eventSource":"s3.amazonaws.com","eventName":""}`, ErrNotEvent, "no eventName"},
		{"names only as values", `{"a":"eventName","b":"eventSource"}`, ErrNotEvent, "no eventSource or eventName"},
		{"wrong type", `{"eventSource":"s3.amazonaws.com","eventName":7}`, ErrWrongType, "eventName is a JSON number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckShape([]byte(tt.raw))
			if tt.want == nil {
				if err != nil {
					t.Errorf("CheckShape: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.msg) {
				t.Errorf("CheckShape: %v, want %v saying %q", err, tt.want, tt.msg)
			}
		})
	}
}

// TestNewPrefilter checks which field of a pattern gives its words.
func TestNewPrefilter(t *testing.T) {
	rec := func(fields string) []byte {
		return []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject",` + fields + `}`)
	}
	tests := []struct {
		name     string
		patterns []route.Pattern
		keep     [][]byte
		drop     [][]byte
	}{
		{"identity type over event names", []route.Pattern{{EventNames: []string{"ConsoleLogin"}, UserIdentityTypes: []string{"Root"}}},
			[][]byte{rec(`"userIdentity":{"type":"Root"}`)}, [][]byte{rec(`"n":"ConsoleLogin"`)}},
		{"event names over event source", []route.Pattern{{EventSources: []string{"sts.amazonaws.com"}, EventNames: []string{"AssumeRoot"}}},
			[][]byte{rec(`"n":"AssumeRoot"`)}, [][]byte{rec(`"s":"sts.amazonaws.com"`)}},
		{"request name", []route.Pattern{{EventNames: []string{"PutParameter"}, RequestNames: []string{"/a/b"}}},
			[][]byte{rec(`"p":{"name":"/a/b"}`), rec(`"p":{"name":"\/a\/b"}`)}, [][]byte{rec(`"n":"PutParameter"`)}},
		{"prefixes over source", []route.Pattern{{Sources: []string{"aws.lambda"}, EventNamePrefixes: []string{"DeleteFunction"}}},
			[][]byte{rec(`"n":"DeleteFunction20150331"`)}, [][]byte{rec(`"s":"lambda.amazonaws.com"`), rec(`"source":"aws.lambda"`)}},
		{"source as event source and as itself", []route.Pattern{{Sources: []string{"aws.lambda", "custom.x"}}},
			[][]byte{rec(`"s":"lambda.amazonaws.com"`), rec(`"source":"aws.lambda"`), rec(`"source":"custom.x"`)}, [][]byte{rec(`"n":"lambda"`)}},
		{"a short prefix keeps everything", []route.Pattern{{EventNamePrefixes: []string{"Put"}}}, [][]byte{rec(`"a":1`)}, nil},
		{"prefixes", []route.Pattern{{EventNamePrefixes: []string{"DeleteFunction"}}},
			[][]byte{rec(`"n":"DeleteFunction20150331"`), rec(`"n":"DeleteFunction"`)}, [][]byte{rec(`"n":"DeleteFunctio"`), rec(`"n":"xDeleteFunction"`)}},
		{"a pattern without words keeps everything", []route.Pattern{{UserIdentityTypes: []string{"Root"}}, {DetailTypes: []string{"x"}}},
			[][]byte{rec(`"a":1`)}, nil},
		{"an empty value keeps everything", []route.Pattern{{EventNames: []string{""}}}, [][]byte{rec(`"a":1`)}, nil},
		{"no patterns keep nothing", nil, nil, [][]byte{rec(`"userIdentity":{"type":"Root"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf := NewPrefilter(tt.patterns)
			for _, want := range []bool{true, false} {
				recs := tt.keep
				if !want {
					recs = tt.drop
				}
				for _, raw := range recs {
					s := NewStream(bytes.NewReader(raw))
					s.SetPrefilter(pf)
					r, err := s.Next()
					if err != nil {
						t.Fatal(err)
					}
					if got := r.MayMatter(); got != want {
						t.Errorf("RawRecord.MayMatter(%s) = %v, want %v", raw, got, want)
					}
					if got := pf.MayMatter(raw); want && !got {
						t.Errorf("Prefilter.MayMatter(%s) = false, want true", raw)
					}
				}
			}
		})
	}
}

// TestNoPrefilter: a Stream without a prefilter, or a nil one, keeps every record.
func TestNoPrefilter(t *testing.T) {
	raw := []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject"} {"a":1}`)
	s := NewStream(bytes.NewReader(raw))
	for range 2 {
		r, err := s.Next()
		if err != nil || !r.MayMatter() {
			t.Errorf("record %d: MayMatter %v, error %v; want true and none", r.Index, r.MayMatter(), err)
		}
	}
	if !(*Prefilter)(nil).MayMatter(raw) {
		t.Error("a nil Prefilter drops a record")
	}
}
