package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// MaxEventEntries is the most entries one PutEvents call takes.
const MaxEventEntries = 10

// MaxFindings is the most findings one BatchImportFindings call takes.
const MaxFindings = 100

type putEventsEntry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
}

func (s *Server) serveEventBridge(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSEvents.")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok && isRuleRead(op) {
		s.serveRules(w, op, c, body)
		return
	}
	if !ok || op != "PutEvents" {
		s.admit(EventBridge, "Unknown", c)
		s.noteError("UnknownOperationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "UnknownOperationException", "The fake implements only PutEvents, DescribeRule and ListTargetsByRule"})
		return
	}
	if e := s.admit(EventBridge, op, c); e != nil {
		writeJSONError(w, *e)
		return
	}
	var in struct {
		Entries []putEventsEntry `json:"Entries"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.noteError("SerializationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	if n := len(in.Entries); n == 0 || n > MaxEventEntries {
		s.noteError("ValidationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", MaxEventEntries)})
		return
	}
	failed := 0
	entries := make([]map[string]string, 0, len(in.Entries))
	for i, e := range in.Entries {
		switch {
		case i < s.failNextEntries:
			entries = append(entries, map[string]string{"ErrorCode": "InternalFailure", "ErrorMessage": "Internal failure (injected)"})
		case e.Source == "" || e.DetailType == "" || e.Detail == "":
			entries = append(entries, map[string]string{"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameters Source, DetailType and Detail are required."})
		case !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{"):
			entries = append(entries, map[string]string{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
		default:
			t := time.Now().UTC()
			if e.Time != nil {
				sec, frac := math.Modf(*e.Time)
				t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
			}
			bus := e.EventBusName
			if bus == "" {
				bus = "default"
			}
			s.events = append(s.events, Event{EventBusName: bus, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, Resources: e.Resources, Time: t, Account: c.account})
			entries = append(entries, map[string]string{"EventId": requestID()})
			continue
		}
		failed++
	}
	s.failNextEntries = 0
	writeJSON(w, "application/x-amz-json-1.1", map[string]any{"FailedEntryCount": failed, "Entries": entries})
}

// defaultProduct matches any account's default product ARN.
var defaultProduct = regexp.MustCompile(`^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:[0-9]{12}:product/[0-9]{12}/default$`)

// asffRequired are the finding members BatchImportFindings requires.
var asffRequired = []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"}

func (s *Server) serveSecurityHub(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/findings/import" {
		s.admit(SecurityHub, "Unknown", c)
		s.noteError("InvalidInputException")
		writeRESTError(w, APIError{http.StatusNotFound, "InvalidInputException", "The fake implements only POST /findings/import"})
		return
	}
	const op = "BatchImportFindings"
	if e := s.admit(SecurityHub, op, c); e != nil {
		writeRESTError(w, *e)
		return
	}
	var in struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.noteError("InvalidInputException")
		writeRESTError(w, APIError{http.StatusBadRequest, "InvalidInputException", err.Error()})
		return
	}
	if n := len(in.Findings); n == 0 || n > MaxFindings {
		s.noteError("InvalidInputException")
		writeRESTError(w, APIError{http.StatusBadRequest, "InvalidInputException",
			fmt.Sprintf("Invalid parameter 'Findings'. data.Findings should NOT have more than %d items and at least 1 item (got %d).", MaxFindings, n)})
		return
	}
	product := fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", s.region(c), c.account, c.account)
	type header struct {
		ID           string `json:"Id"`
		ProductArn   string `json:"ProductArn"`
		AwsAccountID string `json:"AwsAccountId"`
		Title        string `json:"Title"`
		Description  string `json:"Description"`
	}
	heads := make([]header, len(in.Findings))
	for i, raw := range in.Findings {
		_ = json.Unmarshal(raw, &heads[i])
		h := heads[i]
		// With the account's default product, a finding must belong to the calling account:
		// Security Hub refuses the whole call.
		if h.ProductArn == product && h.AwsAccountID != c.account || h.ProductArn != product && defaultProduct.MatchString(h.ProductArn) {
			s.noteError("AccessDeniedException")
			writeRESTError(w, APIError{http.StatusForbidden, "AccessDeniedException",
				fmt.Sprintf("User: %s is not authorized to perform: securityhub:BatchImportFindings on resource: %s", s.principalARN(c), h.ProductArn)})
			return
		}
	}
	type failure struct {
		ID           string `json:"Id"`
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	var failures []failure
	for i, raw := range in.Findings {
		h := heads[i]
		if msg := asffProblem(raw, h.Title, h.Description); msg != "" {
			failures = append(failures, failure{h.ID, "InvalidInput", msg})
			continue
		}
		if i < s.failNextFindings || s.failFindings > 0 && s.rng.Float64() < s.failFindings {
			failures = append(failures, failure{h.ID, "InternalFailure", "Internal failure (injected)"})
			continue
		}
		s.findings = append(s.findings, append([]byte(nil), raw...))
	}
	s.failNextFindings = 0
	if failures == nil {
		failures = []failure{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(map[string]any{
		"FailedCount":    len(failures),
		"SuccessCount":   len(in.Findings) - len(failures),
		"FailedFindings": failures,
	})
}

// asffProblem checks the members BatchImportFindings requires and the length limits; "" when
// the finding is acceptable.
func asffProblem(raw json.RawMessage, title, description string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return "Finding is not a JSON object"
	}
	for _, k := range asffRequired {
		if v, ok := m[k]; !ok || string(v) == "null" || string(v) == `""` {
			return "Finding is missing required field " + k
		}
	}
	if _, ok := m["Types"]; !ok {
		if _, ok := m["FindingProviderFields"]; !ok {
			return "Finding is missing required field Types"
		}
	}
	if len(title) > 256 {
		return "Title is longer than 256 characters"
	}
	if len(description) > 1024 {
		return "Description is longer than 1024 characters"
	}
	return ""
}

func (s *Server) region(c caller) string {
	if c.region != "" {
		return c.region
	}
	return s.opts.Region
}

// writeRESTError writes an AWS REST-JSON error.
func writeRESTError(w http.ResponseWriter, e APIError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": e.Code, "Message": e.Message})
}
