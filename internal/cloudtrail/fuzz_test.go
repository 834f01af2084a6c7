package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// oracleLimit is the largest input FuzzStream compares with encoding/json.
const oracleLimit = 8 << 10

// wantRecords returns the records of data as encoding/json sees them, and false when data is
// not a sequence of valid JSON values.
func wantRecords(data []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		switch v[0] {
		case '[':
			var elems []json.RawMessage
			if json.Unmarshal(v, &elems) != nil {
				return nil, false
			}
			for _, e := range elems {
				out = append(out, string(e))
			}
		case '{':
			elems, found, ok := recordsMembers(v)
			if !ok {
				return nil, false
			}
			if found {
				out = append(out, elems...)
			} else {
				out = append(out, string(v))
			}
		default:
			out = append(out, string(v))
		}
	}
}

// recordsMembers returns the elements of every "Records" array member of an object, in order.
func recordsMembers(obj []byte) (elems []string, found, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, false, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, false, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, false
		}
		if key == "Records" && v[0] == '[' {
			found = true
			var list []json.RawMessage
			if json.Unmarshal(v, &list) != nil {
				return nil, false, false
			}
			for _, e := range list {
				elems = append(elems, string(e))
			}
		}
	}
	return elems, found, true
}

// streamItems reads a whole stream; it fails the test when the stream does not end.
func streamItems(t *testing.T, s *Stream, limit int) []item {
	t.Helper()
	var out []item
	for range limit {
		rec, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Next returned %T %v, want a *RecordError", err, err)
			}
			out = append(out, item{Index: re.Index, Line: re.Line, Err: re.Err.Error(), Fatal: re.Fatal})
			continue
		}
		checkFlags(t, rec)
		out = append(out, item{Rec: string(rec.Bytes), Index: rec.Index, Line: rec.Line})
	}
	t.Fatalf("Stream returned more than %d results: it does not progress", limit)
	return nil
}

// checkFlags checks what the Stream noted while scanning a record against Decode: MayMatter
// must hold for every record a routing pattern matches, and CheckShape must agree with Decode on
// records Decode accepts.
func checkFlags(t *testing.T, rec RawRecord) {
	t.Helper()
	ev, err := Decode(rec.Bytes)
	if err != nil {
		return
	}
	if matters(ev) && !rec.MayMatter() {
		t.Fatalf("record %d matches a routing pattern but the Stream's MayMatter says no: %q", rec.Index, rec.Bytes)
	}
	if rec.MayMatter() && !testPrefilter.MayMatter(rec.Bytes) {
		t.Fatalf("record %d: the Stream's MayMatter says yes, MayMatter says no: %q", rec.Index, rec.Bytes)
	}
	if err := rec.CheckShape(); err != nil {
		t.Fatalf("record %d: Decode accepts it but CheckShape says %v", rec.Index, err)
	}
}

func FuzzStream(f *testing.F) {
	for _, seed := range []string{
		prettyEvent, `[{"a":1},{"b":[2,{"c":"]"}]},"x",3.5e2,null]`, "{\"a\":1}\n{\"b\":2}\r\n\n",
		`{"x":{"Records":[9]},"Records":[{"a":1},{"b":2}],"after":{"Records":[7]}}`, `{"Rec\u006frds":[1]}`,
		`{"Records":{"a":1}}`, "\xEF\xBB\xBF{}", `1 -0.5e+3 true false null "s"`, `{"a":1}{"b":2}[3]0 1`,
		"{\"a\":1}\nnot json\n{\"b\":2}\n", "{\n  \"a\": 1,\n  \"b\": oops\n}\n{\n  \"c\": 3\n}\n",
		`[{"a":1},{"b":x},{"c":3}]`, "{\"Records\":[{\"a\":1},\n{\"b\":2},\n{\"c\":", `"\u12g4"`, "-x\n1.e5\n1e\n-",
		`["\u00e9\"\\\/\b\f\n\r\t"]`, "[[[[]]]]", `{"a" 1}`,
	} {
		f.Add([]byte(seed))
	}
	for _, s := range samples(f) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		limit := len(data) + 2 // every result but the last consumes at least one byte
		whole, tiny := NewStream(bytes.NewReader(data)), newStreamSize(iotest.OneByteReader(bytes.NewReader(data)), 8, 3)
		whole.SetPrefilter(testPrefilter)
		tiny.SetPrefilter(testPrefilter)
		got := streamItems(t, whole, limit)
		small := streamItems(t, tiny, limit)
		if diff := cmp.Diff(got, small); diff != "" {
			t.Fatalf("the results depend on how the input is read (-whole +one byte at a time):\n%s", diff)
		}
		last := 0
		for _, it := range got {
			if it.Index <= last || it.Line < 1 {
				t.Fatalf("index %d after %d, line %d", it.Index, last, it.Line)
			}
			last = it.Index
			if it.Err == "" && !json.Valid([]byte(it.Rec)) {
				t.Fatalf("record %d is not valid JSON: %q", it.Index, it.Rec)
			}
		}
		if len(data) > oracleLimit {
			return
		}
		want, ok := wantRecords(data)
		if !ok {
			return
		}
		var recs []string
		for _, it := range got {
			if it.Err != "" {
				t.Fatalf("valid input, but record %d: %s", it.Index, it.Err)
			}
			recs = append(recs, it.Rec)
		}
		if diff := cmp.Diff(want, recs); diff != "" {
			t.Fatalf("records differ from encoding/json's (-want +got):\n%s", diff)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		prettyEvent,
		`{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::444455556666:root"},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}`,
		`{"detail-type":"AWS Service Event via CloudTrail","id":"1","detail":{"eventSource":"organizations.amazonaws.com","eventName":"CreateAccountResult","serviceEventDetails":"{\"createAccountStatus\":{\"state\":\"SUCCEEDED\",\"accountId\":\"1\"}}"}}`,
		`{"eventSource":"sts.amazonaws.com","eventName":"AssumeRoot","requestParameters":{"targetPrincipal":"444455556666","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}}}`,
		`{"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","userIdentity":{"type":"Root","sessionContext":{"assumedRoot":true}},"readOnly":"false"}`,
		`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","additionalEventData":{"rootguardCanary":"TRUE"}}`,
		`{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","requestParameters":{"policyId":7}}`,
		`{"userIdentity":"Root","eventSource":"x","eventName":"y"}`, `[]`, `{`, `"x"`,
		// Root email changes (ROOT-EMAIL-CHANGED): camelCase, PascalCase, no account id, wrong types.
		`{"eventSource":"account.amazonaws.com","eventName":"StartPrimaryEmailUpdate","userIdentity":{"type":"AssumedRole"},"requestParameters":{"accountId":"444444444444","primaryEmail":"a@evil.example"}}`,
		`{"eventSource":"account.amazonaws.com","eventName":"AcceptPrimaryEmailUpdate","requestParameters":{"AccountId":"444444444444","PrimaryEmail":"a@evil.example","Otp":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`,
		`{"eventSource":"account.amazonaws.com","eventName":"AcceptPrimaryEmailUpdate","recipientAccountId":"333333333333","requestParameters":{"primaryEmail":7}}`,
		// Root tasks beyond any SCP (ROOT-BEYOND-SCP): both taxconsole spellings, sign-in PasswordUpdated.
		`{"eventSource":"taxconsole.amazon.com","eventName":"PutTaxRegistration","userIdentity":{"type":"Root"},"readOnly":false}`,
		`{"eventSource":"signin.amazonaws.com","eventName":"PasswordUpdated","userIdentity":{"type":"Root"},"responseElements":{"PasswordUpdated":"Success"}}`,
	} {
		f.Add([]byte(seed))
	}
	for _, s := range samples(f) {
		f.Add(s.data)
	}
	for _, recs := range sampleRecords(f) {
		for _, r := range recs {
			f.Add(r)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrNotEvent) && !errors.Is(err, ErrWrongType) {
				t.Fatalf("error %v wraps none of the sentinel errors", err)
			}
			return
		}
		if ev.EventName == "" || ev.EventSource == "" {
			t.Fatalf("decoded an event without eventName or eventSource: %+v", ev)
		}
		if matters(ev) && !testPrefilter.MayMatter(data) {
			t.Fatalf("the event matches a routing pattern but MayMatter says no: %q", data)
		}
		if err := CheckShape(data); err != nil {
			t.Fatalf("Decode accepts the event but CheckShape says %v", err)
		}
	})
}
