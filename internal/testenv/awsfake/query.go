package awsfake

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/org"
)

const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// A fixed creation date for fake IAM entities.
const createDate = "2020-01-01T00:00:00Z"

// rootTaskPolicies are the AWS managed task policies AssumeRoot accepts.
var rootTaskPolicies = map[string]bool{
	"IAMAuditRootUserCredentials":  true,
	"IAMCreateRootUserPassword":    true,
	"IAMDeleteRootUserCredentials": true,
	"S3UnlockBucketPolicy":         true,
	"SQSUnlockQueuePolicy":         true,
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[^/]+/)*([^/]+)$`)

// xmlText escapes s for an XML text node.
func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeQueryResult writes an AWS Query protocol answer: <OpResponse><OpResult>...</OpResult>.
func writeQueryResult(w http.ResponseWriter, ns, op, result string) {
	w.Header().Set("Content-Type", "text/xml")
	id := requestID()
	w.Header().Set("X-Amzn-RequestId", id)
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		op, ns, op, result, op, id, op)
}

// writeQueryError writes an AWS Query protocol error.
func writeQueryError(w http.ResponseWriter, ns string, e APIError) {
	w.Header().Set("Content-Type", "text/xml")
	id := requestID()
	w.Header().Set("X-Amzn-RequestId", id)
	w.WriteHeader(e.Status)
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		ns, typ, xmlText(e.Code), xmlText(e.Message), id)
}

// queryRequest reads the form of a Query protocol request.
func queryRequest(r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		return "", fmt.Errorf("method %s", r.Method)
	}
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return r.PostForm.Get("Action"), nil
}

func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, err := queryRequest(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || op == "" {
		s.admit(IAM, "Unknown", c)
		s.noteError("InvalidAction")
		writeQueryError(w, iamNS, APIError{http.StatusBadRequest, "InvalidAction", "no Action"})
		return
	}
	if e := s.admit(IAM, op, c); e != nil {
		writeQueryError(w, iamNS, *e)
		return
	}
	var result string
	var apiErr *APIError
	if op == "ListOrganizationsFeatures" {
		result, apiErr = s.listOrganizationsFeatures(c)
	} else {
		result, apiErr = s.iamOperation(op, c, r.PostForm.Get("UserName"))
	}
	if apiErr != nil {
		s.noteError(apiErr.Code)
		writeQueryError(w, iamNS, *apiErr)
		return
	}
	writeQueryResult(w, iamNS, op, result)
}

// iamOperation answers from the calling account's root credential state. A null field of the
// seed's rootCredentials is unreadable: GetAccountSummary leaves its key out, and the operation
// that would read it is denied.
func (s *Server) iamOperation(op string, c caller, userName string) (string, *APIError) {
	root := s.idx.rootState(c.account)
	denied := &APIError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: iam:%s", s.principalARN(c), op)}
	if root == nil && op != "GetAccountSummary" {
		return "", denied
	}
	if op != "GetAccountSummary" && userName == "" && c.kind != kindRoot {
		return "", &APIError{http.StatusBadRequest, "ValidationError", "Must specify userName when calling with non-User credentials"}
	}
	if userName != "" {
		return "", &APIError{http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", userName)}
	}
	flag := func(p *bool) (bool, bool) {
		if p == nil {
			return false, false
		}
		return *p, true
	}
	switch op {
	case "GetAccountSummary":
		if root == nil {
			return "", denied
		}
		var b strings.Builder
		b.WriteString("<SummaryMap>")
		entry := func(k string, v int) { fmt.Fprintf(&b, "<entry><key>%s</key><value>%d</value></entry>", k, v) }
		for _, kv := range []struct {
			key string
			p   *bool
		}{
			{"AccountMFAEnabled", root.MFAEnabled},
			{"AccountAccessKeysPresent", root.AccessKeysPresent},
			{"AccountSigningCertificatesPresent", root.SigningCertificatesPresent},
			{"AccountPasswordPresent", root.PasswordPresent},
		} {
			if v, ok := flag(kv.p); ok {
				entry(kv.key, btoi(v))
			}
		}
		entry("Users", 0)
		entry("Roles", 3)
		entry("MFADevices", btoi(root.MFAEnabled != nil && *root.MFAEnabled))
		b.WriteString("</SummaryMap>")
		return b.String(), nil

	case "GetLoginProfile":
		v, ok := flag(root.PasswordPresent)
		if !ok {
			return "", denied
		}
		if !v {
			return "", &APIError{http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("Login Profile for User %s cannot be found.", c.account)}
		}
		return fmt.Sprintf("<LoginProfile><UserName>%s</UserName><CreateDate>%s</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>", c.account, createDate), nil

	case "ListMFADevices":
		v, ok := flag(root.MFAEnabled)
		if !ok {
			return "", denied
		}
		items := ""
		if v {
			items = fmt.Sprintf("<member><UserName>%s</UserName><SerialNumber>arn:aws:iam::%s:mfa/root-account-mfa-device</SerialNumber><EnableDate>%s</EnableDate></member>", c.account, c.account, createDate)
		}
		return "<MFADevices>" + items + "</MFADevices><IsTruncated>false</IsTruncated>", nil

	case "ListAccessKeys":
		v, ok := flag(root.AccessKeysPresent)
		if !ok {
			return "", denied
		}
		items := ""
		if v {
			items = fmt.Sprintf("<member><AccessKeyId>AKIA%s0001</AccessKeyId><Status>Active</Status><CreateDate>%s</CreateDate></member>", c.account, createDate)
		}
		return "<AccessKeyMetadata>" + items + "</AccessKeyMetadata><IsTruncated>false</IsTruncated>", nil

	case "ListSigningCertificates":
		v, ok := flag(root.SigningCertificatesPresent)
		if !ok {
			return "", denied
		}
		items := ""
		if v {
			items = fmt.Sprintf("<member><CertificateId>FAKECERT%s</CertificateId><CertificateBody>-----BEGIN CERTIFICATE-----</CertificateBody><Status>Active</Status><UploadDate>%s</UploadDate></member>", c.account, createDate)
		}
		return "<Certificates>" + items + "</Certificates><IsTruncated>false</IsTruncated>", nil
	}
	return "", &APIError{http.StatusBadRequest, "InvalidAction", "The fake does not implement " + op}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// principalARN names the caller as AWS error messages do.
func (s *Server) principalARN(c caller) string {
	switch c.kind {
	case kindRoot:
		return fmt.Sprintf("arn:aws:iam::%s:root", c.account)
	case kindRole:
		name := s.opts.RoleName
		if name == "" {
			name = "rootguard-audit"
		}
		return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/rootguard", c.account, name)
	}
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/rootguard-central/rootguard", c.account)
}

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, err := queryRequest(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || op == "" {
		s.admit(STS, "Unknown", c)
		s.noteError("InvalidAction")
		writeQueryError(w, stsNS, APIError{http.StatusBadRequest, "InvalidAction", "no Action"})
		return
	}
	if e := s.admit(STS, op, c); e != nil {
		writeQueryError(w, stsNS, *e)
		return
	}
	result, apiErr := s.stsOperation(op, c, r)
	if apiErr != nil {
		s.noteError(apiErr.Code)
		writeQueryError(w, stsNS, *apiErr)
		return
	}
	writeQueryResult(w, stsNS, op, result)
}

func (s *Server) stsOperation(op string, c caller, r *http.Request) (string, *APIError) {
	form := r.PostForm
	duration := func(def, lo, hi int) (int, *APIError) {
		v := form.Get("DurationSeconds")
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, &APIError{http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", v, lo, hi)}
		}
		return n, nil
	}
	creds := func(account, kind string, seconds int) string {
		exp := time.Now().UTC().Add(time.Duration(seconds) * time.Second).Format(time.RFC3339)
		return fmt.Sprintf("<Credentials><AccessKeyId>ASIA%s%s</AccessKeyId><SecretAccessKey>fake-secret-%s</SecretAccessKey><SessionToken>fake-token-%s-%s</SessionToken><Expiration>%s</Expiration></Credentials>",
			account, kind, account, account, strings.ToLower(kind), exp)
	}
	switch op {
	case "GetCallerIdentity":
		return fmt.Sprintf("<Arn>%s</Arn><UserId>AROAFAKE:%s</UserId><Account>%s</Account>", s.principalARN(c), c.kind, c.account), nil

	case "AssumeRole":
		arn := form.Get("RoleArn")
		m := roleARN.FindStringSubmatch(arn)
		if m == nil || form.Get("RoleSessionName") == "" {
			return "", &APIError{http.StatusBadRequest, "ValidationError", "RoleArn and RoleSessionName are required and RoleArn must be a role ARN"}
		}
		account, name := m[1], m[2]
		seconds, e := duration(3600, 900, 43200)
		if e != nil {
			return "", e
		}
		if (s.opts.RoleName != "" && name != s.opts.RoleName && name != s.opts.RevertRoleName && !slices.Contains(s.opts.OtherRoleNames, name)) || s.idx.rootState(account) == nil {
			return "", &APIError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.principalARN(c), arn)}
		}
		return creds(account, kindRole, seconds) +
			fmt.Sprintf("<AssumedRoleUser><AssumedRoleId>AROAFAKE:%s</AssumedRoleId><Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn></AssumedRoleUser>",
				xmlText(form.Get("RoleSessionName")), account, xmlText(name), xmlText(form.Get("RoleSessionName"))), nil

	case "AssumeRoot":
		target := form.Get("TargetPrincipal")
		task := form.Get("TaskPolicyArn.arn")
		name, ok := strings.CutPrefix(task, "arn:aws:iam::aws:policy/root-task/")
		if target == "" || !ok || !rootTaskPolicies[name] {
			return "", &APIError{http.StatusBadRequest, "ValidationError", "TargetPrincipal and a root-task TaskPolicyArn are required"}
		}
		seconds, e := duration(900, 0, 900)
		if e != nil {
			return "", e
		}
		if c.kind != kindCentral {
			return "", &APIError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRoot", s.principalARN(c))}
		}
		if !org.IsAccountID(target) || target == s.idx.mgmt() || s.idx.rootState(target) == nil {
			return "", &APIError{http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::%s:root", s.principalARN(c), xmlText(target))}
		}
		return creds(target, kindRoot, seconds) + "<SourceIdentity></SourceIdentity>", nil
	}
	return "", &APIError{http.StatusBadRequest, "InvalidAction", "The fake does not implement " + op}
}
