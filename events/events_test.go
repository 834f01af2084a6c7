package events_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
)

// TestEmbedsTheFolder: every file of the folder (this package's own directory) is embedded, so a
// sample added here is one every test sees; only the README, the package's Go files and hidden
// files are not.
func TestEmbedsTheFolder(t *testing.T) {
	var onDisk, embedded []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "README.md" || strings.HasSuffix(p, ".go") || strings.HasPrefix(d.Name(), ".") {
			return err // hidden files are neither embedded nor replayed
		}
		onDisk = append(onDisk, filepath.ToSlash(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(events.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded = append(embedded, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onDisk, embedded) {
		t.Errorf("embedded %v\nbut the folder holds %v", embedded, onDisk)
	}
}

// TestSampleNames: every file under a folder is a sample named as events/README.md says, and
// every sample gives EventBridge events.
func TestSampleNames(t *testing.T) {
	all, err := events.All()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := events.Rules()
	if err != nil {
		t.Fatal(err)
	}
	forged, err := events.Folder(events.Forged)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 100 || len(rules)+len(forged) != len(all) || len(forged) < 3 {
		t.Fatalf("%d samples, %d of rules, %d forged", len(all), len(rules), len(forged))
	}
	for _, s := range all {
		if s.None() != (s.Severity == "none") || s.Slug == "" || !strings.HasPrefix(s.Name(), s.Severity+"."+s.Slug+".json") {
			t.Errorf("%s: severity %q slug %q", s.Path, s.Severity, s.Slug)
		}
		if _, err := finding.ParseSeverity(s.Severity); err != nil && !s.None() {
			t.Errorf("%s: %v", s.Path, err)
		}
		if s.Forged() && !s.None() {
			t.Errorf("%s: a forged sample must raise nothing (none.<slug>.json)", s.Path)
		}
		evs, err := s.Events()
		if err != nil {
			t.Error(err)
		}
		recs, _ := s.Records()
		if len(evs) != len(recs) || len(evs) == 0 {
			t.Errorf("%s: %d events of %d records", s.Path, len(evs), len(recs))
		}
	}
	if _, err := events.Load("org.json"); err == nil {
		t.Error("org.json loaded as a sample")
	}
	if _, err := events.Load("ROOT-SIGNIN/MEDIUM.no-such-sample.json"); err == nil {
		t.Error("a missing sample loaded")
	}
}

// TestRecords: the kinds of input a sample may hold.
func TestRecords(t *testing.T) {
	event := `{"source":"aws.iam","detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"e"}}`
	record := `{"eventSource":"signin.amazonaws.com","eventType":"AwsConsoleSignIn","eventID":"r"}`
	for name, tt := range map[string]struct {
		in   string
		want int
		bad  bool
	}{
		"one event":          {in: event, want: 1},
		"array":              {in: "[" + event + "," + event + "]", want: 2},
		"JSON Lines":         {in: event + "\n" + event + "\n", want: 2},
		"CloudTrail log":     {in: `{"Records":[` + record + "," + record + "]}", want: 2},
		"not JSON":           {in: `{"source":`, bad: true},
		"not an object":      {in: `"x"`, bad: true},
		"empty":              {in: "  ", bad: true},
		"object not event":   {in: `{"hello":"world"}`, bad: true},
		"detail not object":  {in: `{"source":"a","detail-type":"b","detail":[1]}`, bad: true},
		"no source":          {in: `{"detail-type":"b","detail":{}}`, bad: true},
		"unknown event type": {in: `{"eventSource":"signin.amazonaws.com","eventType":"Unknown"}`, bad: true},
		"not an AWS service": {in: `{"eventSource":"acme.example","eventType":"AwsApiCall"}`, bad: true},
	} {
		t.Run(name, func(t *testing.T) {
			evs, err := events.Sample{Path: "X/none.x.json", Data: []byte(tt.in)}.Events()
			if (err != nil) != tt.bad || len(evs) != tt.want {
				t.Errorf("%d events, error %v; want %d, error %v", len(evs), err, tt.want, tt.bad)
			}
		})
	}
}

// TestWrap: a bare CloudTrail record is wrapped as CloudTrail sends it, and decodes as one event.
func TestWrap(t *testing.T) {
	for eventType, want := range map[string]string{
		"AwsApiCall":       cloudtrail.DetailTypeAPICall,
		"AwsConsoleSignIn": cloudtrail.DetailTypeSignIn,
		"AwsServiceEvent":  cloudtrail.DetailTypeServiceEvent,
		"AwsConsoleAction": cloudtrail.DetailTypeConsole,
	} {
		if events.DetailTypes[eventType] != want {
			t.Errorf("%s: detail-type %q, want %q", eventType, events.DetailTypes[eventType], want)
		}
	}
	rec := `{"eventSource":"signin.amazonaws.com","eventType":"AwsConsoleSignIn","eventName":"ConsoleLogin",` +
		`"recipientAccountId":"444455556666","awsRegion":"us-east-1","eventID":"e1","eventTime":"2026-11-01T00:00:00Z"}`
	raw, err := events.Wrap([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"version": "0", "id": "env-e1", "source": "aws.signin", "detail-type": "AWS Console Sign In via CloudTrail",
		"account": "444455556666", "region": "us-east-1", "time": "2026-11-01T00:00:00Z"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	dec, err := cloudtrail.Decode(raw)
	if err != nil || dec.Envelope == nil || dec.EventName != "ConsoleLogin" || dec.Envelope.Account != "444455556666" {
		t.Errorf("the wrapped record decodes as %+v, %v", dec, err)
	}
}

// TestOrg: the sample organizations are embedded beside the samples.
func TestOrg(t *testing.T) {
	for _, name := range []string{events.OrgFile, events.BlindOrgFile} {
		data, err := events.Read(name)
		if err != nil || !json.Valid(data) || !strings.Contains(string(data), `"organization"`) {
			t.Errorf("%s: %d bytes, %v", name, len(data), err)
		}
	}
	if string(events.Org()) != mustRead(t, events.OrgFile) {
		t.Error("Org() is not org.json")
	}
	dir := t.TempDir()
	if err := events.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ROOT-SIGNIN", "MEDIUM.management-root-login-with-mfa.json")); err != nil || len(b) == 0 {
		t.Errorf("CopyTo: %v", err)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := events.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
