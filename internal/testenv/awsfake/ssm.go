package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SSM is the fake Systems Manager Parameter Store (JSON 1.1, X-Amz-Target AmazonSSM.*):
// PutParameter and GetParameter, per region (the region the request was signed for) and calling
// account. Every successful PutParameter is recorded (SSMPuts) so that a test can play the trail:
// ParameterPut.CloudTrailEvent is the event CloudTrail would hand EventBridge for it.
const SSM = "ssm"

// ParameterPut is one PutParameter the fake accepted.
type ParameterPut struct {
	Region, Account, Name, Value, Type string
	Version                            int64
	Overwrite                          bool
	// AccessKeyID signed the request.
	AccessKeyID string
	Time        time.Time
}

type parameter struct {
	value, typ, description string
	version                 int64
	modified                time.Time
}

type ssmStore struct {
	params map[string]*parameter // region|account|name
	puts   []ParameterPut
}

// SSMPuts returns the PutParameter calls the fake accepted, in order.
func (s *Server) SSMPuts() []ParameterPut {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ParameterPut(nil), s.ssm.puts...)
}

func (s *Server) serveSSM(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || (op != "PutParameter" && op != "GetParameter") {
		s.admit(SSM, "Unknown", c)
		s.noteError("UnknownOperationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "UnknownOperationException", "The fake implements only PutParameter and GetParameter"})
		return
	}
	if e := s.admit(SSM, op, c); e != nil {
		writeJSONError(w, *e)
		return
	}
	var in struct {
		Name, Value, Type, Description string
		Overwrite                      bool
		WithDecryption                 bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.noteError("SerializationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	if s.ssm.params == nil {
		s.ssm.params = map[string]*parameter{}
	}
	region := c.region
	if region == "" {
		region = s.opts.Region
	}
	key := region + "|" + c.account + "|" + in.Name
	if in.Name == "" || len(in.Name) > 2048 {
		s.noteError("ValidationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 2048"})
		return
	}
	p := s.ssm.params[key]
	if op == "GetParameter" {
		if p == nil {
			s.noteError("ParameterNotFound")
			writeJSONError(w, APIError{http.StatusBadRequest, "ParameterNotFound", ""})
			return
		}
		writeJSON(w, "application/x-amz-json-1.1", map[string]any{"Parameter": map[string]any{
			"Name": in.Name, "Type": p.typ, "Value": p.value, "Version": p.version, "DataType": "text",
			"LastModifiedDate": float64(p.modified.UnixMilli()) / 1000,
			"ARN":              fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, c.account, in.Name),
		}})
		return
	}
	switch {
	case in.Type != "" && in.Type != "String" && in.Type != "StringList" && in.Type != "SecureString":
		s.noteError("ValidationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint", in.Type)})
		return
	case in.Value == "" || len(in.Value) > 4096:
		s.noteError("ValidationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and 4096"})
		return
	case p != nil && !in.Overwrite:
		s.noteError("ParameterAlreadyExists")
		writeJSONError(w, APIError{http.StatusBadRequest, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."})
		return
	case p == nil && in.Type == "":
		s.noteError("ValidationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ValidationException", "A parameter type is required when you create a parameter."})
		return
	}
	if p == nil {
		p = &parameter{typ: in.Type}
		s.ssm.params[key] = p
	}
	p.value, p.version, p.modified = in.Value, p.version+1, time.Now().UTC()
	if in.Description != "" {
		p.description = in.Description
	}
	s.ssm.puts = append(s.ssm.puts, ParameterPut{Region: region, Account: c.account, Name: in.Name, Value: in.Value, Type: p.typ,
		Version: p.version, Overwrite: in.Overwrite, AccessKeyID: c.akid, Time: p.modified})
	writeJSON(w, "application/x-amz-json-1.1", map[string]any{"Version": p.version, "Tier": "Standard"})
}

// CloudTrailEvent is the EventBridge event ("AWS API Call via CloudTrail", source aws.ssm) that
// CloudTrail would hand the default bus of the put's account and region, made by a session of
// roleARN (the role the caller assumed, as CloudTrail records it).
func (p ParameterPut) CloudTrailEvent(roleARN string) []byte {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	at := p.Time.UTC().Format(time.RFC3339)
	id := requestID()
	ev := map[string]any{
		"version": "0", "id": requestID(), "detail-type": "AWS API Call via CloudTrail", "source": "aws.ssm",
		"account": p.Account, "time": at, "region": p.Region, "resources": []string{},
		"detail": map[string]any{
			"eventVersion": "1.09",
			"userIdentity": map[string]any{
				"type": "AssumedRole", "principalId": "AROAFAKEHEARTBEAT:rootguard-heartbeat",
				"arn":       fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/rootguard-heartbeat", p.Account, name),
				"accountId": p.Account, "accessKeyId": p.AccessKeyID,
				"sessionContext": map[string]any{
					"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAFAKEHEARTBEAT", "arn": roleARN, "accountId": p.Account, "userName": name},
					"attributes":    map[string]any{"creationDate": at, "mfaAuthenticated": "false"},
				},
			},
			"eventTime": at, "eventSource": "ssm.amazonaws.com", "eventName": "PutParameter", "awsRegion": p.Region,
			"sourceIPAddress": "192.0.2.10", "userAgent": "aws-sdk-go-v2",
			"requestParameters": map[string]any{"name": p.Name, "type": p.Type, "overwrite": p.Overwrite, "value": "HIDDEN_DUE_TO_SECURITY_REASONS"},
			"responseElements":  map[string]any{"version": p.Version, "tier": "Standard"},
			"requestID":         requestID(), "eventID": id, "readOnly": false, "eventType": "AwsApiCall",
			"managementEvent": true, "recipientAccountId": p.Account, "eventCategory": "Management",
		},
	}
	b, _ := json.Marshal(ev)
	return b
}
