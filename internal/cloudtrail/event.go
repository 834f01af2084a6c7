// Package cloudtrail holds the CloudTrail event model rootguard evaluates and its decoder.
//
// An input is either an EventBridge event whose detail is a CloudTrail record (as the
// Lambdas receive them) or a bare CloudTrail record (as in CloudTrail log files). Both decode
// to an Event. Only the fields the rules read are decoded; unknown fields are ignored.
package cloudtrail

import (
	"encoding/json"
	"strings"
)

// Detail-types CloudTrail sends to EventBridge that rootguard handles.
const (
	DetailTypeAPICall      = "AWS API Call via CloudTrail"
	DetailTypeSignIn       = "AWS Console Sign In via CloudTrail"
	DetailTypeSignInGuide  = "AWS Console Signin via CloudTrail"
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
	DetailTypeConsole      = "AWS Console Action via CloudTrail"
)

// Event sources rootguard reads.
const (
	SourceSignIn        = "signin.amazonaws.com"
	SourceIAM           = "iam.amazonaws.com"
	SourceSTS           = "sts.amazonaws.com"
	SourceOrganizations = "organizations.amazonaws.com"
	SourceControlTower  = "controltower.amazonaws.com"
	// SourceAccount is the Account Management API (root email changes).
	SourceAccount = "account.amazonaws.com"
	// SourceCloudTrail is the event source of CloudTrail's own API calls (TRAIL-TAMPERED).
	SourceCloudTrail = "cloudtrail.amazonaws.com"
)

// CanarySource is the EventBridge source of rootguard's heartbeat canaries (route.CanarySource).
const CanarySource = "rootguard.canary"

// Event is one CloudTrail record, with the EventBridge envelope fields when it came in one.
type Event struct {
	// Envelope is the EventBridge envelope; nil for a bare CloudTrail record.
	Envelope *Envelope
	Record
}

// Envelope is the EventBridge part of an event (without its detail).
type Envelope struct {
	ID         string `json:"id"`
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Account    string `json:"account"`
	Time       string `json:"time"`
	Region     string `json:"region"`
}

// Record is the part of a CloudTrail record the rules read.
type Record struct {
	EventVersion       string        `json:"eventVersion"`
	UserIdentity       *UserIdentity `json:"userIdentity"`
	EventTime          string        `json:"eventTime"`
	EventSource        string        `json:"eventSource"`
	EventName          string        `json:"eventName"`
	AWSRegion          string        `json:"awsRegion"`
	SourceIPAddress    string        `json:"sourceIPAddress"`
	UserAgent          string        `json:"userAgent"`
	ErrorCode          string        `json:"errorCode"`
	ErrorMessage       string        `json:"errorMessage"`
	EventID            string        `json:"eventID"`
	ReadOnly           flexBool      `json:"readOnly"`
	EventType          string        `json:"eventType"`
	RecipientAccountID string        `json:"recipientAccountId"`

	// RequestParameters holds the request's top-level members; nil when the record has none.
	RequestParameters map[string]json.RawMessage `json:"requestParameters"`
	// ResponseElements holds the response's top-level members; nil when the record has none.
	ResponseElements map[string]json.RawMessage `json:"responseElements"`
	// AdditionalEventData holds the sign-in details (MFAUsed, LoginTo, ...).
	AdditionalEventData map[string]json.RawMessage `json:"additionalEventData"`
	// ServiceEventDetails is normalised to an object: a JSON string holding an object is unquoted.
	ServiceEventDetails *ServiceEventDetails `json:"-"`

	// Canary marks a synthetic heartbeat event: additionalEventData.rootguardCanary is "true" and
	// the EventBridge source is CanarySource.
	Canary bool `json:"-"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	UserName       string          `json:"userName"`
	InvokedBy      string          `json:"invokedBy"`
	SessionContext *SessionContext `json:"sessionContext"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	AssumedRoot   flexString `json:"assumedRoot"`
	SessionIssuer *struct {
		Type string `json:"type"`
		ARN  string `json:"arn"`
	} `json:"sessionIssuer"`
	Attributes *struct {
		MFAAuthenticated flexString `json:"mfaAuthenticated"`
		CreationDate     string     `json:"creationDate"`
	} `json:"attributes"`
}

// ServiceEventDetails is the part of serviceEventDetails the onboarding rules read.
type ServiceEventDetails struct {
	CreateAccountStatus        *CreateAccountStatus        `json:"createAccountStatus"`
	CreateManagedAccountStatus *CreateManagedAccountStatus `json:"createManagedAccountStatus"`
}

// CreateAccountStatus is Organizations' CreateAccountResult detail. Its timestamps are
// human-formatted ("Sep 16, 2020 9:20:50 PM"), not RFC 3339, so they are kept as text.
type CreateAccountStatus struct {
	ID                 string     `json:"id"`
	State              string     `json:"state"`
	AccountName        string     `json:"accountName"`
	AccountID          string     `json:"accountId"`
	FailureReason      string     `json:"failureReason"`
	RequestedTimestamp flexString `json:"requestedTimestamp"`
	CompletedTimestamp flexString `json:"completedTimestamp"`
}

// CreateManagedAccountStatus is Control Tower's CreateManagedAccount detail.
type CreateManagedAccountStatus struct {
	OrganizationalUnit *struct {
		Name string `json:"organizationalUnitName"`
		ID   string `json:"organizationalUnitId"`
	} `json:"organizationalUnit"`
	Account *struct {
		Name string `json:"accountName"`
		ID   string `json:"accountId"`
	} `json:"account"`
	State              string     `json:"state"`
	Message            string     `json:"message"`
	RequestedTimestamp flexString `json:"requestedTimestamp"`
	CompletedTimestamp flexString `json:"completedTimestamp"`
}

// IsRoot reports whether the record was made by a root user.
func (r *Record) IsRoot() bool { return r.UserIdentity != nil && r.UserIdentity.Type == "Root" }

// ServiceActing reports whether an AWS service, not a person, made the call: userIdentity.invokedBy
// is set or the record is an AwsServiceEvent.
func (r *Record) ServiceActing() bool {
	return r.EventType == "AwsServiceEvent" || (r.UserIdentity != nil && r.UserIdentity.InvokedBy != "")
}

// AssumedRoot reports whether the record was made inside a centralised root session
// (sts:AssumeRoot), userIdentity.sessionContext.assumedRoot = "true".
func (r *Record) AssumedRoot() bool {
	return r.UserIdentity != nil && r.UserIdentity.SessionContext != nil &&
		strings.EqualFold(string(r.UserIdentity.SessionContext.AssumedRoot), "true")
}

// Failed reports whether the call failed and so changed nothing: errorCode is set, or a sign-in
// event's response is "Failure".
func (r *Record) Failed() bool {
	if r.ErrorCode != "" {
		return true
	}
	if r.EventSource == SourceSignIn {
		if v := r.Response(r.EventName); strings.EqualFold(v, "Failure") {
			return true
		}
		return r.ErrorMessage != "" && r.EventName == "ConsoleLogin"
	}
	return false
}

// Param returns requestParameters[name] when it is a JSON string, else "".
func (r *Record) Param(name string) string { return stringMember(r.RequestParameters, name) }

// ParamObject returns requestParameters[name][key] when both exist and the value is a string.
func (r *Record) ParamObject(name, key string) string {
	raw, ok := r.RequestParameters[name]
	if !ok {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return stringMember(m, key)
}

// HasParam reports whether requestParameters has the member, whatever its value.
func (r *Record) HasParam(name string) bool {
	v, ok := r.RequestParameters[name]
	return ok && string(v) != "null"
}

// Response returns responseElements[name] when it is a JSON string, else "".
func (r *Record) Response(name string) string { return stringMember(r.ResponseElements, name) }

// Additional returns additionalEventData[name] when it is a JSON string, else "".
func (r *Record) Additional(name string) string { return stringMember(r.AdditionalEventData, name) }

// Actor is the ARN of who acted, or the identity type, or the service that did.
func (r *Record) Actor() string {
	u := r.UserIdentity
	switch {
	case u == nil:
		return "unknown"
	case u.ARN != "":
		return u.ARN
	case u.InvokedBy != "":
		return u.InvokedBy
	case u.Type != "":
		return u.Type
	}
	return "unknown"
}

// AccountID is the account the record was made in: userIdentity.accountId for a root identity,
// else recipientAccountId, else the envelope's account.
func (e *Event) AccountID() string {
	if e.RecipientAccountID != "" {
		return e.RecipientAccountID
	}
	if e.UserIdentity != nil && e.UserIdentity.AccountID != "" {
		return e.UserIdentity.AccountID
	}
	if e.Envelope != nil {
		return e.Envelope.Account
	}
	return ""
}

// Region is the record's awsRegion, else the envelope's region.
func (e *Event) Region() string {
	if e.AWSRegion != "" {
		return e.AWSRegion
	}
	if e.Envelope != nil {
		return e.Envelope.Region
	}
	return ""
}

// ID is the CloudTrail eventID, else the EventBridge event id.
func (e *Event) ID() string {
	if e.EventID != "" {
		return e.EventID
	}
	if e.Envelope != nil {
		return e.Envelope.ID
	}
	return ""
}

// Time is the record's eventTime, else the envelope's time (RFC 3339 text).
func (e *Event) Time() string {
	if e.EventTime != "" {
		return e.EventTime
	}
	if e.Envelope != nil {
		return e.Envelope.Time
	}
	return ""
}

func stringMember(m map[string]json.RawMessage, name string) string {
	raw, ok := m[name]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
