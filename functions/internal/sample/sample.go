// Package sample reads the sample events under events/ as the functions receive them: each
// file (one EventBridge event, a JSON array of them, JSON Lines, or a CloudTrail log file of bare
// records) gives its events in order, bare records wrapped in the EventBridge event CloudTrail
// would send. The end-to-end test and the benchmarks share it.
package sample

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// ErrEmpty: a sample file holds no event.
var ErrEmpty = errors.New("no events")

// Files lists the sample event files under dir (events/<RULE-ID>/*.json|.jsonl), in name order.
// Files directly in dir (org.json, README.md) are not samples.
func Files(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Dir(p) == filepath.Clean(dir) {
			return nil
		}
		if strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list samples in %s: %w", dir, err)
	}
	return files, nil
}

// Events returns each event of a sample file as the EventBridge event a function receives.
func Events(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := cloudtrail.NewStream(f)
	var out [][]byte
	for {
		rec, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		b := append([]byte(nil), rec.Bytes...)
		var probe struct {
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		_ = json.Unmarshal(b, &probe)
		if probe.DetailType == "" || probe.Detail == nil {
			if b, err = Envelope(b); err != nil {
				return nil, fmt.Errorf("%s record %d: %w", path, rec.Index, err)
			}
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	return out, nil
}

// detailTypes maps a CloudTrail eventType to the EventBridge detail-type CloudTrail sends.
var detailTypes = map[string]string{
	"AwsApiCall":       cloudtrail.DetailTypeAPICall,
	"AwsConsoleSignIn": cloudtrail.DetailTypeSignIn,
	"AwsServiceEvent":  cloudtrail.DetailTypeServiceEvent,
	"AwsConsoleAction": cloudtrail.DetailTypeConsole,
}

// Envelope wraps a bare CloudTrail record in the EventBridge event CloudTrail would send.
func Envelope(record []byte) ([]byte, error) {
	var r struct {
		EventID            string `json:"eventID"`
		EventSource        string `json:"eventSource"`
		EventType          string `json:"eventType"`
		EventTime          string `json:"eventTime"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
	}
	if err := json.Unmarshal(record, &r); err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	detailType := detailTypes[r.EventType]
	if detailType == "" {
		detailType = cloudtrail.DetailTypeAPICall
	}
	return json.Marshal(map[string]any{
		"version":     "0",
		"id":          "env-" + r.EventID,
		"detail-type": detailType,
		"source":      "aws." + strings.TrimSuffix(r.EventSource, ".amazonaws.com"),
		"account":     r.RecipientAccountID,
		"time":        r.EventTime,
		"region":      r.AWSRegion,
		"resources":   []string{},
		"detail":      json.RawMessage(record),
	})
}
