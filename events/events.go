// Package events is the sample folder (events/) as the tests read it: the sample events, embedded,
// listed with what their names promise, split into their records, and each record as the
// EventBridge event a function receives (bare CloudTrail records wrapped the way CloudTrail sends
// them); and the sample organizations (org.json, org.blind.json).
//
// File names say what a sample does (events/README.md): events/<RULE-ID>/<SEVERITY>.<slug>.json
// raises RULE-ID at SEVERITY, none.<slug>.json does not raise it. events/forged/ holds events AWS
// did not write (custom sources, mismatched accounts): they load like any other sample, as they
// are. The command line reads events/ from disk (`make demo`); this package is for tests.
//
// It imports only the standard library, so that the tests of every package (cloudtrail, rule,
// org, ...) can use it.
package events

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed */* org.json org.blind.json
var files embed.FS

// FS is the events/ folder: the samples and the organization snapshots (not the README).
var FS fs.FS = files

// The files beside the samples.
const (
	OrgFile      = "org.json"       // the sample organization the samples happen in
	BlindOrgFile = "org.blind.json" // the same organization, blind (README: "The organization")
)

// NotesFile is the optional note in a rule's folder on what its samples show (not a sample).
const NotesFile = "README.md"

// Forged is the folder of events AWS did not write: its files are named none.<slug>.json (they
// must raise nothing) and the folder names no rule.
const Forged = "forged"

// None is the Severity of a sample that must not raise its folder's rule.
const None = "none"

// Sample is one sample file.
type Sample struct {
	Path     string // relative to events/, slash-separated: "ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json"
	Folder   string // the rule id the sample is about, or Forged
	Severity string // the severity word its name starts with (CRITICAL, ..., INFORMATIONAL), or None
	Slug     string // what the sample shows, from its name
	Data     []byte // the file's content (gunzipped for a .gz file)
}

// None reports whether the sample must not raise its folder's rule.
func (s Sample) None() bool { return s.Severity == None }

// Forged reports whether the sample is an event AWS did not write (events/forged/).
func (s Sample) Forged() bool { return s.Folder == Forged }

// Name is the file name without the folder.
func (s Sample) Name() string { return path.Base(s.Path) }

// IsSampleName reports whether a file name is a sample's: .json or .jsonl, possibly gzipped.
func IsSampleName(name string) bool {
	name = strings.TrimSuffix(name, ".gz")
	return strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".jsonl")
}

// All returns every sample (every file of every folder, events/forged/ included), in path order.
func All() ([]Sample, error) {
	var out []Sample
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "/") {
			return err // the top-level files are the organizations, not samples
		}
		if path.Base(p) == NotesFile {
			return nil // what a folder's samples show, not a sample
		}
		s, err := Load(p)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the samples: %w", err)
	}
	slices.SortFunc(out, func(a, b Sample) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Rules returns every sample of a rule (events/forged/ left out), in path order.
func Rules() ([]Sample, error) {
	all, err := All()
	return slices.DeleteFunc(all, Sample.Forged), err
}

// Folder returns the samples of one folder, in path order.
func Folder(folder string) ([]Sample, error) {
	all, err := All()
	all = slices.DeleteFunc(all, func(s Sample) bool { return s.Folder != folder })
	if err == nil && len(all) == 0 {
		err = fmt.Errorf("no samples under events/%s/", folder)
	}
	return all, err
}

// Load reads one sample by its path relative to events/ ("ROOT-SIGNIN/MEDIUM.x.json").
func Load(p string) (Sample, error) {
	folder, name, ok := strings.Cut(p, "/")
	if !ok || strings.Contains(name, "/") {
		return Sample{}, fmt.Errorf("events/%s: samples live in events/<RULE-ID>/", p)
	}
	if !IsSampleName(name) {
		return Sample{}, fmt.Errorf("events/%s: a sample is a .json or .jsonl file", p)
	}
	sev, slug, ok := strings.Cut(strings.TrimSuffix(name, ".gz"), ".")
	if !ok || sev == "" {
		return Sample{}, fmt.Errorf("events/%s: a sample is named <SEVERITY>.<slug>.json or none.<slug>.json", p)
	}
	data, err := Read(p)
	if err != nil {
		return Sample{}, err
	}
	slug = strings.TrimSuffix(strings.TrimSuffix(slug, ".json"), ".jsonl")
	return Sample{Path: p, Folder: folder, Severity: sev, Slug: slug, Data: data}, nil
}

// Read returns a file of events/ by its path relative to events/ ("org.json", a sample's path),
// gunzipped when its name ends in .gz.
func Read(p string) ([]byte, error) {
	data, err := files.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("events/%s: %w", p, err)
	}
	if !strings.HasSuffix(p, ".gz") {
		return data, nil
	}
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err == nil {
		data, err = io.ReadAll(z)
	}
	if err != nil {
		return nil, fmt.Errorf("events/%s: %w", p, err)
	}
	return data, nil
}

// Org returns events/org.json, the sample organization.
func Org() []byte {
	data, err := files.ReadFile(OrgFile)
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	return data
}

// CopyTo writes the events/ folder (the samples and the organizations) under dir, for tests that
// give paths to the replay or the command line.
func CopyTo(dir string) error { return os.CopyFS(dir, files) }

// Records returns the sample's JSON values in order, each an EventBridge event or a bare
// CloudTrail record: one value, a JSON array of them, JSON Lines, or a CloudTrail log file
// ({"Records": [...]}).
func (s Sample) Records() ([][]byte, error) {
	recs, err := Records(s.Data)
	if err != nil {
		return nil, fmt.Errorf("events/%s: %w", s.Path, err)
	}
	return recs, nil
}

// Events returns each record of the sample as the EventBridge event a function receives: bare
// CloudTrail records are wrapped (Wrap).
func (s Sample) Events() ([][]byte, error) {
	recs, err := s.Records()
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		if recs[i], err = Event(r); err != nil {
			return nil, fmt.Errorf("events/%s record %d: %w", s.Path, i+1, err)
		}
	}
	return recs, nil
}

// Records splits a sample's content into its JSON values, in order (see Sample.Records).
func Records(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	for i := 1; ; i++ {
		var v json.RawMessage
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		var list []json.RawMessage
		switch v[0] {
		case '[':
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf("value %d: %w", i, err)
			}
		case '{':
			var log struct {
				Records []json.RawMessage `json:"Records"`
			}
			if err := json.Unmarshal(v, &log); err == nil && log.Records != nil {
				list = log.Records
			} else {
				list = []json.RawMessage{v}
			}
		default:
			return nil, fmt.Errorf("value %d is not an object", i)
		}
		for _, r := range list {
			out = append(out, []byte(r))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no events")
	}
	return out, nil
}

// Event returns a record as the EventBridge event a function receives: an EventBridge event as
// it is, a bare CloudTrail record wrapped (Wrap); anything else is an error.
func Event(record []byte) ([]byte, error) {
	var probe struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(record, &probe); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	if probe.DetailType == "" && probe.Detail == nil {
		return Wrap(record)
	}
	if probe.Source == "" || probe.DetailType == "" || !bytes.HasPrefix(bytes.TrimSpace(probe.Detail), []byte("{")) {
		return nil, errors.New("not an EventBridge event (source, detail-type, detail)")
	}
	return record, nil
}

// DetailTypes are the detail-types CloudTrail records arrive under on EventBridge, by eventType.
// Sign-in events also arrive as "AWS Console Signin via CloudTrail" (the samples use both).
var DetailTypes = map[string]string{
	"AwsApiCall":       "AWS API Call via CloudTrail",
	"AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
	"AwsServiceEvent":  "AWS Service Event via CloudTrail",
	"AwsConsoleAction": "AWS Console Action via CloudTrail",
}

// Wrap wraps a bare CloudTrail record in the EventBridge event CloudTrail sends for it: id
// "env-" + eventID, the detail-type of its eventType, source aws.<service> of its eventSource,
// account its recipientAccountId (the account that recorded it), its region and time. A record of
// another eventType, or whose eventSource is not an amazonaws.com service, is an error.
func Wrap(record []byte) ([]byte, error) {
	var r struct {
		EventID            string `json:"eventID"`
		EventSource        string `json:"eventSource"`
		EventType          string `json:"eventType"`
		EventTime          string `json:"eventTime"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
	}
	if err := json.Unmarshal(record, &r); err != nil {
		return nil, fmt.Errorf("read the CloudTrail record: %w", err)
	}
	detailType, ok := DetailTypes[r.EventType]
	service, aws := strings.CutSuffix(r.EventSource, ".amazonaws.com")
	if !ok || !aws || service == "" {
		return nil, fmt.Errorf("CloudTrail record with eventSource %q eventType %q: no EventBridge envelope for it", r.EventSource, r.EventType)
	}
	return json.Marshal(map[string]any{
		"version":     "0",
		"id":          "env-" + r.EventID,
		"detail-type": detailType,
		"source":      "aws." + service,
		"account":     r.RecipientAccountID,
		"time":        r.EventTime,
		"region":      r.AWSRegion,
		"resources":   []string{},
		"detail":      json.RawMessage(record),
	})
}
