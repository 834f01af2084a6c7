package policy

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootguard/rootguard/events"
)

// inlineSeeds are policy contents every fuzz run starts from.
var inlineSeeds = []string{
	staxProtection,
	variantMulti,
	variantActions,
	variantAllow,
	denyWith(`{"ForAnyValue:ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::123456789012:root","arn:aws:iam::*:role/x"]},"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::1*:root"}}`),
	denyWith(`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600]},"Bool":{"aws:SecureTransport":false}}`),
	`{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Principal":{"AWS":"*"}}}`,
	`{"Statement":[{"Effect":"Deny","Action":"*","Resource":[]}]}`,
	`{"Statement":[{"Effect":"Deny","Action":5}]}`,
	`{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":{"aws:PrincipalArn":null}}}]}`,
	`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`,
	"",
	"{",
}

// eventSeeds returns every requestParameters.content and policies[].content string in the
// JSON files of the events folder (the samples and the sample organizations).
func eventSeeds(t testing.TB) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(events.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		f, err := events.FS.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := json.NewDecoder(f)
		for {
			var v any
			if err := dec.Decode(&v); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: not JSON, no seeds taken from the rest: %v", p, err)
				}
				return nil
			}
			out = collectContents(v, out)
		}
	})
	if err != nil {
		t.Fatalf("read the events folder: %v", err)
	}
	return out
}

func collectContents(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		if rp, ok := x["requestParameters"].(map[string]any); ok {
			if c, ok := rp["content"].(string); ok {
				out = append(out, c)
			}
		}
		if ps, ok := x["policies"].([]any); ok {
			for _, p := range ps {
				if pm, ok := p.(map[string]any); ok {
					if c, ok := pm["content"].(string); ok {
						out = append(out, c)
					}
				}
			}
		}
		for _, e := range x {
			out = collectContents(e, out)
		}
	case []any:
		for _, e := range x {
			out = collectContents(e, out)
		}
	}
	return out
}

func allSeeds(t testing.TB) []string {
	return append(append([]string(nil), inlineSeeds...), eventSeeds(t)...)
}

func FuzzParse(f *testing.F) {
	for _, s := range allSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		doc, err := Parse(content)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || err.Error() == "" {
				t.Fatalf("Parse error %q does not match ErrInvalid", err)
			}
			return
		}
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if len(out) > MaxContentBytes {
			return // the canonical form (lists, escapes, Resource "*") outgrew the limit
		}
		again, err := Parse(string(out))
		if err != nil {
			t.Fatalf("Parse(Marshal(doc)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(doc, again); diff != "" {
			t.Fatalf("round trip changed the document (-first +second):\n%s", diff)
		}
		if doc.DeniesRoot() != again.DeniesRoot() || len(doc.RootAimedDenies("")) != len(again.RootAimedDenies("")) {
			t.Fatalf("round trip changed the root-aimed decision")
		}
		ch, err := Compare(content, string(out))
		if err != nil {
			t.Fatalf("Compare with its own round trip: %v", err)
		}
		if want := selfKind(doc); ch.Kind != want {
			t.Fatalf("Compare with its own round trip = %v %q, want %v", ch.Kind, ch.Reasons, want)
		}
	})
}

// selfKind is what Compare(x, x) must say: Unchanged, unless x has no root-aimed Deny.
func selfKind(d *Document) Kind {
	if d.DeniesRoot() {
		return Unchanged
	}
	return Weakened
}

func FuzzCompare(f *testing.F) {
	seeds := allSeeds(f)
	for _, s := range seeds {
		f.Add(staxProtection, s)
		f.Add(s, staxProtection)
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, oldContent, newContent string) {
		ch, err := Compare(oldContent, newContent)
		od, oerr := Parse(oldContent)
		nd, nerr := Parse(newContent)
		if (err == nil) != (oerr == nil && nerr == nil) {
			t.Fatalf("Compare error %v, Parse errors %v / %v", err, oerr, nerr)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Compare error %q does not match ErrInvalid", err)
			}
			return
		}
		if ch.Kind < Unchanged || ch.Kind > Other {
			t.Fatalf("Kind %d out of range", ch.Kind)
		}
		if ch.Kind != Unchanged && ch.Kind != Tightened && len(ch.Reasons) == 0 {
			t.Fatalf("%v without reasons", ch.Kind)
		}
		if !nd.DeniesRoot() && ch.Kind != Weakened {
			t.Fatalf("the new content denies root nowhere, yet the change is %v", ch.Kind)
		}
		for _, x := range []struct {
			content string
			doc     *Document
		}{{oldContent, od}, {newContent, nd}} {
			self, err := Compare(x.content, x.content)
			if err != nil {
				t.Fatalf("Compare(x, x): %v", err)
			}
			if want := selfKind(x.doc); self.Kind != want {
				t.Fatalf("Compare(x, x) = %v %q, want %v", self.Kind, self.Reasons, want)
			}
		}
		// Unchanged means equivalent statements, so it holds both ways when the old content
		// has a root-aimed Deny too (being aimed at root is a matter of form, not of effect).
		if ch.Kind == Unchanged && od.DeniesRoot() {
			back, err := Compare(newContent, oldContent)
			if err != nil {
				t.Fatalf("Compare(new, old): %v", err)
			}
			if back.Kind != Unchanged {
				t.Fatalf("unchanged one way, %v %q the other", back.Kind, back.Reasons)
			}
		}
	})
}

// TestCollectContents: the seed reader finds policy text in an UpdatePolicy event and in the
// organization snapshot format.
func TestCollectContents(t *testing.T) {
	const sample = `[
	  {"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"UpdatePolicy",
	    "requestParameters":{"policyId":"p-abcd1234","content":"{\"Statement\":[]}"}}},
	  {"organization":{"id":"o-aa111bb222"},"policies":[{"id":"p-1","content":"A"},{"id":"p-2","content":null},{"id":"p-3","content":"B"}]}
	]`
	var v any
	if err := json.Unmarshal([]byte(sample), &v); err != nil {
		t.Fatal(err)
	}
	got := collectContents(v, nil)
	if diff := cmp.Diff([]string{`{"Statement":[]}`, "A", "B"}, got); diff != "" {
		t.Errorf("collectContents (-want +got):\n%s", diff)
	}
}
