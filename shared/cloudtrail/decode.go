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
	if err := decodeRecord(recordBytes, &ev.Record); err != nil {
		if ev.Envelope != nil && errors.Is(err, ErrWrongType) {
			return nil, fmt.Errorf("detail.%w", err)
		}
		return nil, err
	}
	return ev, nil
}

// recordProbe adds the members that need custom handling.
type recordProbe struct {
	Record
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
}

func decodeRecord(data []byte, r *Record) error {
	var p recordProbe
	if err := json.Unmarshal(data, &p); err != nil {
		return typeProblem("", err)
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
				return fmt.Errorf("%w: serviceEventDetails: %v", ErrWrongType, err)
			}
			sed = []byte(s)
			if !json.Valid(sed) {
				return fmt.Errorf("%w: serviceEventDetails is a string that does not hold JSON", ErrWrongType)
			}
		}
		if sed[0] != '{' {
			return fmt.Errorf("%w: serviceEventDetails is a JSON %s, not an object", ErrWrongType, kindOf(sed))
		}
		var d ServiceEventDetails
		if err := json.Unmarshal(sed, &d); err != nil {
			return typeProblem("serviceEventDetails.", err)
		}
		r.ServiceEventDetails = &d
	}
	if err := checkParams(r); err != nil {
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

func checkParams(r *Record) error {
	for _, name := range stringParams[r.EventSource] {
		raw, ok := r.RequestParameters[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if raw[0] != '"' {
			return fmt.Errorf("%w: requestParameters.%s is a JSON %s where a string belongs", ErrWrongType, name, kindOf(raw))
		}
	}
	if raw, ok := r.AdditionalEventData["MFAUsed"]; ok && len(raw) > 0 && raw[0] != '"' && string(raw) != "null" {
		return fmt.Errorf("%w: additionalEventData.MFAUsed is a JSON %s where a string belongs", ErrWrongType, kindOf(raw))
	}
	return nil
}

// typeProblem turns encoding/json's errors into one that names the field.
func typeProblem(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("%w: %s%s is a JSON %s where %s belongs", ErrWrongType, prefix, field, te.Value, goTypeName(te.Type.String()))
	}
	return fmt.Errorf("%w: %s%v", ErrWrongType, prefix, err)
}

func goTypeName(t string) string {
	switch {
	case t == "string" || strings.HasSuffix(t, "flexString"):
		return "a string"
	case strings.HasSuffix(t, "flexBool") || t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "*") || strings.Contains(t, "struct"):
		return "an object"
	}
	return "a " + t
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
