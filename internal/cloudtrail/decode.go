package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Sentinel errors of Decode; the returned error wraps one of them and says what is wrong.
var (
	// ErrNotJSON: the bytes are not one JSON value.
	ErrNotJSON = errors.New("not JSON")
	// ErrNotEvent: the JSON is not a CloudTrail record or an EventBridge event carrying one.
	ErrNotEvent = errors.New("not a CloudTrail event")
	// ErrWrongType: a field the rules read has the wrong JSON type.
	ErrWrongType = errors.New("wrong type")
)

// MaxEventBytes is the largest single event Decode accepts (EventBridge's own limit is 256 KB;
// CloudTrail records are smaller). Larger inputs are rejected rather than buffered.
const MaxEventBytes = 1 << 20

// envelopeProbe reads the EventBridge envelope and keeps the detail raw.
type envelopeProbe struct {
	Envelope
	Detail json.RawMessage `json:"detail"`
}

// Decode decodes one JSON value: an EventBridge event whose detail is a CloudTrail record, or a
// bare CloudTrail record.
func Decode(data []byte) (*Event, error) {
	data = bytes.TrimSpace(data)
	if len(data) > MaxEventBytes {
		return nil, fmt.Errorf("%w: event is %d bytes, more than the %d accepted", ErrNotEvent, len(data), MaxEventBytes)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%w: %s", ErrNotJSON, syntaxProblem(data))
	}
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%w: a JSON %s, not an object", ErrNotEvent, kindOf(data))
	}
	ev := &Event{}
	recordBytes := data
	var probe envelopeProbe
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, typeProblem("", err)
	}
	if probe.Detail != nil && probe.DetailType != "" {
		env := probe.Envelope
		ev.Envelope = &env
		recordBytes = probe.Detail
		if len(recordBytes) == 0 || recordBytes[0] != '{' {
			return nil, fmt.Errorf("%w: detail is a JSON %s, not a CloudTrail record", ErrNotEvent, kindOf(recordBytes))
		}
	}
	path := "" // where the record sits, for error messages
	if ev.Envelope != nil {
		path = "detail."
	}
	if err := decodeRecord(recordBytes, &ev.Record, path); err != nil {
		return nil, err
	}
	// Only rootguard's heartbeat puts events of the canary source on the bus; a mark on any
	// other event (a bare record, a forwarded AWS event) is not honoured.
	ev.Canary = ev.Canary && ev.Envelope != nil && ev.Envelope.Source == CanarySource
	return ev, nil
}

// recordProbe adds the members that need custom handling.
type recordProbe struct {
	Record
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
}

// decodeRecord decodes a CloudTrail record found at path ("" or "detail.").
func decodeRecord(data []byte, r *Record, path string) error {
	var p recordProbe
	if err := json.Unmarshal(data, &p); err != nil {
		return typeProblem(path, err)
	}
	if p.EventName == "" || p.EventSource == "" {
		var missing []string
		if p.EventSource == "" {
			missing = append(missing, "eventSource")
		}
		if p.EventName == "" {
			missing = append(missing, "eventName")
		}
		return fmt.Errorf("%w: no %s", ErrNotEvent, strings.Join(missing, " or "))
	}
	*r = p.Record
	if sed := bytes.TrimSpace(p.ServiceEventDetails); len(sed) > 0 && string(sed) != "null" {
		if sed[0] == '"' {
			var s string
			if err := json.Unmarshal(sed, &s); err != nil {
				return fmt.Errorf("%w: %sserviceEventDetails: %v", ErrWrongType, path, err)
			}
			sed = []byte(s)
			if !json.Valid(sed) {
				return fmt.Errorf("%w: %sserviceEventDetails is a string that does not hold JSON", ErrWrongType, path)
			}
		}
		if sed[0] != '{' {
			return fmt.Errorf("%w: %sserviceEventDetails is a JSON %s, not an object", ErrWrongType, path, kindOf(sed))
		}
		var d ServiceEventDetails
		if err := json.Unmarshal(sed, &d); err != nil {
			return typeProblem(path+"serviceEventDetails.", err)
		}
		r.ServiceEventDetails = &d
	}
	if err := checkParams(r, path); err != nil {
		return err
	}
	r.Canary = strings.EqualFold(r.Additional("rootguardCanary"), "true")
	return nil
}

// stringParams are the request parameters the rules read, per event source, that must be
// strings when present.
var stringParams = map[string][]string{
	SourceOrganizations: {"policyId", "targetId", "name", "content", "policyType", "rootId", "accountId", "sourceParentId", "destinationParentId", "handshakeId"},
	SourceSTS:           {"targetPrincipal"},
	SourceIAM:           {"userName", "serialNumber"},
}

func checkParams(r *Record, path string) error {
	for _, name := range stringParams[r.EventSource] {
		raw, ok := r.RequestParameters[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if raw[0] != '"' {
			return fmt.Errorf("%w: %srequestParameters.%s is a JSON %s where a string belongs", ErrWrongType, path, name, kindOf(raw))
		}
	}
	if raw, ok := r.AdditionalEventData["MFAUsed"]; ok && len(raw) > 0 && raw[0] != '"' && string(raw) != "null" {
		return fmt.Errorf("%w: %sadditionalEventData.MFAUsed is a JSON %s where a string belongs", ErrWrongType, path, kindOf(raw))
	}
	return nil
}

// typeProblem turns encoding/json's errors into one that names the field.
func typeProblem(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Fields of the embedded probes come as "Record.userIdentity": keep the JSON path.
		field := strings.TrimPrefix(strings.TrimPrefix(te.Field, "Envelope."), "Record.")
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("%w: %s%s is a JSON %s where %s belongs", ErrWrongType, prefix, field, te.Value, goTypeName(te.Type))
	}
	return fmt.Errorf("%w: %s%v", ErrWrongType, prefix, err)
}

// goTypeName names the JSON type a Go type decodes from.
func goTypeName(t reflect.Type) string {
	switch t {
	case flexStringType:
		return "a string"
	case flexBoolType:
		return "a boolean"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a number"
}

func kindOf(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func syntaxProblem(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// flexBool accepts a JSON boolean or the strings "true"/"false" (some pipelines stringify).
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return &json.UnmarshalTypeError{Value: kindOf(data), Type: flexBoolType}
	}
	return nil
}

// Bool returns the value.
func (b flexBool) Bool() bool { return bool(b) }

// flexString accepts a JSON string, boolean or number and keeps its text; CloudTrail writes
// "true" as a string where some pipelines write a boolean, and some timestamps unquoted.
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	switch kindOf(data) {
	case "boolean", "number":
		*s = flexString(data)
		return nil
	case "null":
		*s = ""
		return nil
	}
	return &json.UnmarshalTypeError{Value: kindOf(data), Type: flexStringType}
}

var (
	flexBoolType   = reflect.TypeFor[flexBool]()
	flexStringType = reflect.TypeFor[flexString]()
)
