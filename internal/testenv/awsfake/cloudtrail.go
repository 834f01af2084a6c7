package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rootguard/rootguard/internal/org"
)

// CloudTrail is the fake CloudTrail service (AWS JSON 1.1): DescribeTrails, GetTrailStatus and
// GetEventSelectors answer from the seed's organization.trails, the management account's trails.
// A null field of a seeded trail is unreadable: the call that would tell it is denied; null
// trails deny DescribeTrails.
const CloudTrail = "cloudtrail"

const cloudTrailTargetPrefix = "CloudTrail_20131101."

type cloudTrailInput struct {
	Name      string `json:"Name"`
	TrailName string `json:"TrailName"`
}

func (s *Server) serveCloudTrail(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cloudTrailTargetPrefix)
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || r.Method != http.MethodPost {
		s.admit(CloudTrail, "Unknown", c)
		s.noteError("UnknownOperationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "UnknownOperationException", "unknown target " + r.Header.Get("X-Amz-Target")})
		return
	}
	if e := s.admit(CloudTrail, op, c); e != nil {
		writeJSONError(w, *e)
		return
	}
	var in cloudTrailInput
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			s.noteError("SerializationException")
			writeJSONError(w, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
			return
		}
	}
	out, apiErr := s.cloudTrailOperation(op, c, in)
	if apiErr != nil {
		s.noteError(apiErr.Code)
		writeJSONError(w, *apiErr)
		return
	}
	writeJSON(w, "application/x-amz-json-1.1", out)
}

// trailName is the name part of a trail ARN.
func trailName(arn string) string {
	if i := strings.LastIndex(arn, ":trail/"); i >= 0 {
		return arn[i+len(":trail/"):]
	}
	return arn
}

// cloudTrailOperation answers one CloudTrail operation. Called with s.mu held.
func (s *Server) cloudTrailOperation(op string, c caller, in cloudTrailInput) (any, *APIError) {
	denied := func(what string) *APIError {
		return &APIError{http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: cloudtrail:%s", s.principalARN(c), what)}
	}
	trails := s.doc.Organization.Trails
	if c.account != s.idx.mgmt() {
		trails = []org.Trail{} // the fake knows only the management account's trails
	}
	find := func(name string) (org.Trail, *APIError) {
		for _, t := range trails {
			if t.ARN == name || trailName(t.ARN) == name {
				return t, nil
			}
		}
		return org.Trail{}, &APIError{http.StatusBadRequest, "TrailNotFoundException", "Unknown trail: " + name}
	}
	switch op {
	case "DescribeTrails":
		if trails == nil {
			return nil, denied(op)
		}
		list := []map[string]any{}
		for _, t := range trails {
			m := map[string]any{"Name": trailName(t.ARN), "TrailARN": t.ARN, "IncludeGlobalServiceEvents": true,
				"S3BucketName": "cloudtrail-" + s.idx.mgmt(), "LogFileValidationEnabled": true}
			if parts := strings.Split(t.ARN, ":"); len(parts) > 3 {
				m["HomeRegion"] = parts[3]
			}
			if t.MultiRegion != nil {
				m["IsMultiRegionTrail"] = *t.MultiRegion
			}
			if t.Organization != nil {
				m["IsOrganizationTrail"] = *t.Organization
			}
			list = append(list, m)
		}
		return map[string]any{"trailList": list}, nil
	case "GetTrailStatus":
		t, e := find(in.Name)
		if e != nil {
			return nil, e
		}
		if t.Logging == nil {
			return nil, denied(op)
		}
		return map[string]any{"IsLogging": *t.Logging}, nil
	case "GetEventSelectors":
		t, e := find(in.TrailName)
		if e != nil {
			return nil, e
		}
		if t.ManagementEvents == nil {
			return nil, denied(op)
		}
		return map[string]any{"TrailARN": t.ARN, "EventSelectors": []map[string]any{
			{"ReadWriteType": "All", "IncludeManagementEvents": *t.ManagementEvents, "DataResources": []any{}},
		}}, nil
	}
	return nil, &APIError{http.StatusBadRequest, "UnknownOperationException", "operation " + op + " is not faked"}
}

// listOrganizationsFeatures answers iam:ListOrganizationsFeatures from the seed's
// organization.features (the management account only; null features: IAM trusted access off).
func (s *Server) listOrganizationsFeatures(c caller) (string, *APIError) {
	if c.account != s.idx.mgmt() {
		return "", &APIError{http.StatusBadRequest, "AccountNotManagementOrDelegatedAdministrator", "The request was rejected because the account is not the management account or delegated administrator."}
	}
	feats := s.doc.Organization.Features
	if feats == nil {
		return "", &APIError{http.StatusBadRequest, "ServiceAccessNotEnabled", "The request was rejected because trusted access for IAM is not enabled for AWS Organizations."}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<OrganizationId>%s</OrganizationId><EnabledFeatures>", xmlText(s.doc.Organization.ID))
	for _, f := range feats {
		fmt.Fprintf(&b, "<member>%s</member>", xmlText(f))
	}
	b.WriteString("</EnabledFeatures>")
	return b.String(), nil
}
