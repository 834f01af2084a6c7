// Package awsfake serves fake AWS endpoints for tests: Organizations, IAM, STS, EventBridge,
// Security Hub, SSM Parameter Store and CloudTrail, each an httptest server that speaks the service's wire protocol, so that the real
// AWS SDK clients talk to it through AWS_ENDPOINT_URL_<SERVICE> (or a client's BaseEndpoint).
//
// The organization is seeded from an org.SnapshotDoc: Organizations answers from it (paginated
// with a small page size so that callers' pagination is exercised), IAM answers each account's
// root credential state from its rootCredentials, and STS hands out access key ids that encode the
// account (and the kind of session) so that IAM and Security Hub know who is calling. EventBridge
// and Security Hub record what they are sent; EventBridge also answers DescribeRule and
// ListTargetsByRule, per calling account and signed region, from the rules a test puts (PutRule,
// DeleteRule).
//
// Faults can be injected: throttle every Nth call (or a fraction of calls) to a service with that
// service's real throttling error, make one operation fail with a given error, delay an
// Organizations operation, mark entries of PutEvents or findings of BatchImportFindings failed. Every request is counted per operation, for
// API-call budget tests. A Server is safe for concurrent use.
package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rootguard/rootguard/internal/org"
)

// Service names, as the knobs and counters take them.
const (
	Organizations = "organizations"
	IAM           = "iam"
	STS           = "sts"
	EventBridge   = "eventbridge"
	SecurityHub   = "securityhub"
)

// Services lists every fake service.
var Services = []string{Organizations, IAM, STS, EventBridge, SecurityHub, SSM, CloudTrail}

// envNames maps each service to the environment variable the SDK reads its endpoint from.
var envNames = map[string]string{
	Organizations: "AWS_ENDPOINT_URL_ORGANIZATIONS",
	IAM:           "AWS_ENDPOINT_URL_IAM",
	STS:           "AWS_ENDPOINT_URL_STS",
	EventBridge:   "AWS_ENDPOINT_URL_EVENTBRIDGE",
	SecurityHub:   "AWS_ENDPOINT_URL_SECURITYHUB",
	SSM:           "AWS_ENDPOINT_URL_SSM",
	CloudTrail:    "AWS_ENDPOINT_URL_CLOUDTRAIL",
}

// CentralAccessKeyID is the access key id Env hands out: calls signed with it (or with any key
// the fake STS did not issue) are made by Options.CallerAccount.
const CentralAccessKeyID = "AKIAFAKECENTRAL00001"

// Session kinds encoded in the access key ids the fake STS issues.
const (
	kindCentral = "central" // not issued by the fake: the caller account's own credentials
	kindRole    = "ROLE"    // AssumeRole
	kindRoot    = "ROOT"    // AssumeRoot
)

var issuedKey = regexp.MustCompile(`^ASIA([0-9]{12})(ROLE|ROOT)$`)

// Options configures a Server. The zero value is usable.
type Options struct {
	// PageSize is the largest page an Organizations List operation returns (default 2).
	PageSize int
	// CallerAccount is the account of credentials the fake STS did not issue (default: the
	// organization's management account).
	CallerAccount string
	// Region is the region named in ARNs (default us-east-1).
	Region string
	// RoleName, when set, is the only role name AssumeRole accepts (besides RevertRoleName and
	// OtherRoleNames).
	RoleName string
	// RevertRoleName, when set, is another role name AssumeRole accepts: rootguard's revert role.
	RevertRoleName string
	// Seed seeds the pseudo-random choice of ThrottleFraction (default 1).
	Seed uint64
	// NoPaths leaves out the Paths of accounts and the Path of OUs, as Organizations answered
	// before it had them.
	NoPaths bool
	// OtherRoleNames are further role names AssumeRole accepts when RoleName is set (the
	// management account's heartbeat role).
	OtherRoleNames []string
}

// APIError is an error answer: the HTTP status, the error code and its message.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Call is one request the fake received.
type Call struct {
	Service   string
	Operation string
	// Region is the region the request was signed for.
	Region string
	// AccessKeyID is the access key id the request was signed with.
	AccessKeyID string
	// Account is the calling account, as known from the access key id.
	Account string
	// Error is the error code answered, "" on success.
	Error string
}

// Event is one entry PutEvents accepted.
type Event struct {
	EventBusName string
	Source       string
	DetailType   string
	Detail       string
	Resources    []string
	Time         time.Time
	// Account is the account that put the event.
	Account string
}

type throttle struct {
	every    int     // every Nth call (1 = all), 0 = off
	fraction float64 // probability, 0 = off
	n        int     // calls seen since set
}

type fault struct {
	err   APIError
	times int // remaining; <0 means always
}

// Server is the set of fake endpoints. Create it with New and Close it when done.
type Server struct {
	opts Options

	mu               sync.Mutex
	doc              org.SnapshotDoc
	idx              *index
	servers          map[string]*httptest.Server
	calls            []Call
	throttles        map[string]*throttle
	faults           map[string]*fault // "service.Op"
	rng              *mrand.Rand
	events           []Event
	findings         [][]byte
	failNextEntries  int
	failNextFindings int
	failFindings     float64 // fraction of findings reported failed
	delays           map[string]*delay
	writes           []Write // Organizations write calls accepted (organizations_write.go)
	ssm              ssmStore
	rules            map[string]ForwardingRule // account/region/name: DescribeRule, ListTargetsByRule
}

type delay struct {
	d     time.Duration
	times int // remaining; <0 means always
}

// New starts the fake endpoints seeded with doc, which must be a valid snapshot document.
func New(doc org.SnapshotDoc, opts Options) (*Server, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 2
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	idx, err := newIndex(doc)
	if err != nil {
		return nil, fmt.Errorf("awsfake: seed: %w", err)
	}
	if opts.CallerAccount == "" {
		opts.CallerAccount = doc.Organization.ManagementAccountID
	}
	s := &Server{
		opts:      opts,
		doc:       doc,
		idx:       idx,
		servers:   map[string]*httptest.Server{},
		throttles: map[string]*throttle{},
		faults:    map[string]*fault{},
		delays:    map[string]*delay{},
		rng:       mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	handlers := map[string]http.HandlerFunc{
		Organizations: s.serveOrganizations,
		IAM:           s.serveIAM,
		STS:           s.serveSTS,
		EventBridge:   s.serveEventBridge,
		SecurityHub:   s.serveSecurityHub,
		SSM:           s.serveSSM,
		CloudTrail:    s.serveCloudTrail,
	}
	for _, name := range Services {
		s.servers[name] = httptest.NewServer(handlers[name])
	}
	return s, nil
}

// Close shuts every endpoint down.
func (s *Server) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
}

// URL returns the base URL of one service's endpoint.
func (s *Server) URL(service string) string {
	if srv, ok := s.servers[service]; ok {
		return srv.URL
	}
	return ""
}

// Env returns the environment that points the default SDK configuration at the fakes: the
// AWS_ENDPOINT_URL_* variables, a region, static credentials of the caller account, and no shared
// configuration files or instance metadata.
func (s *Server) Env() map[string]string {
	env := map[string]string{
		"AWS_REGION":                  s.opts.Region,
		"AWS_ACCESS_KEY_ID":           CentralAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       "fake-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for name, v := range envNames {
		env[v] = s.URL(name)
	}
	return env
}

// CallerAccount is the account of credentials the fake STS did not issue.
func (s *Server) CallerAccount() string { return s.opts.CallerAccount }

// Doc returns the organization as the fake now holds it.
func (s *Server) Doc() org.SnapshotDoc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneDoc(s.doc)
}

// Update changes the organization (to simulate a move, a detach, a rename, ...). The result must
// be a valid snapshot document; on error nothing changes.
func (s *Server) Update(change func(doc *org.SnapshotDoc)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := cloneDoc(s.doc)
	change(&doc)
	idx, err := newIndex(doc)
	if err != nil {
		return fmt.Errorf("awsfake: update: %w", err)
	}
	s.doc, s.idx = doc, idx
	return nil
}

// ThrottleEvery answers every nth call to service (counting from now; 1 = every call) with the
// service's throttling error; 0 stops.
func (s *Server) ThrottleEvery(service string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[service] = &throttle{every: n}
}

// ThrottleFraction answers a pseudo-random fraction (0..1) of the calls to service with the
// service's throttling error; 0 stops. The choice is deterministic for a given Options.Seed.
func (s *Server) ThrottleFraction(service string, fraction float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[service] = &throttle{fraction: math.Max(0, math.Min(1, fraction))}
}

// Fail makes the next `times` calls of one operation (e.g. Organizations, "DescribeAccount")
// answer err; times < 0 means every call until ClearFaults.
func (s *Server) Fail(service, operation string, err APIError, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.faults, service+"."+operation)
		return
	}
	s.faults[service+"."+operation] = &fault{err: err, times: times}
}

// ClearFaults removes every throttle, failure and delay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles = map[string]*throttle{}
	s.faults = map[string]*fault{}
	s.delays = map[string]*delay{}
	s.failNextEntries, s.failNextFindings, s.failFindings = 0, 0, 0
}

// Delay makes the next `times` calls of one operation (Organizations only) wait d before they
// are answered; times < 0 means every call until ClearFaults. A caller that gives up meanwhile
// (its connection closed, as when a Lambda function times out) gets no answer and changes
// nothing; the call is recorded with the error code CallerGone.
func (s *Server) Delay(service, operation string, d time.Duration, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.delays, service+"."+operation)
		return
	}
	s.delays[service+"."+operation] = &delay{d: d, times: times}
}

// CallerGone is the error code recorded for a delayed call whose caller gave up.
const CallerGone = "CallerGone"

// wait applies the delay set for an operation, without holding s.mu; false when the caller went
// away meanwhile (the call is then recorded and must not be answered).
func (s *Server) wait(r *http.Request, service, op string) bool {
	s.mu.Lock()
	var d time.Duration
	if dl := s.delays[service+"."+op]; dl != nil && dl.times != 0 {
		d = dl.d
		if dl.times > 0 {
			dl.times--
		}
	}
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		c := s.callerOf(r)
		s.mu.Lock()
		s.calls = append(s.calls, Call{Service: service, Operation: op, Region: c.region, AccessKeyID: c.akid, Account: c.account, Error: CallerGone})
		s.mu.Unlock()
		return false
	}
}

// FailEntries makes the next PutEvents call report its first n entries failed.
func (s *Server) FailEntries(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNextEntries = n
}

// FailFindings makes the next BatchImportFindings call report its first n findings failed.
func (s *Server) FailFindings(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNextFindings = n
}

// FailFindingsFraction makes BatchImportFindings report a pseudo-random fraction (0..1) of the
// findings it receives failed (FailedCount, InternalFailure), until ClearFaults; deterministic
// for a given Options.Seed.
func (s *Server) FailFindingsFraction(fraction float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFindings = math.Max(0, math.Min(1, fraction))
}

// Calls counts the requests one operation received (throttled and failed ones included);
// operation "" counts every operation of the service, service "" every request.
func (s *Server) Calls(service, operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if (service == "" || c.Service == service) && (operation == "" || c.Operation == operation) {
			n++
		}
	}
	return n
}

// CallCounts returns the number of requests per "service.Operation".
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		out[c.Service+"."+c.Operation]++
	}
	return out
}

// CallLog returns every request received, in order.
func (s *Server) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ResetCalls forgets the requests received so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Events returns the entries PutEvents accepted, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Findings returns the findings BatchImportFindings accepted (each as the JSON the caller sent),
// in order.
func (s *Server) Findings() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.findings))
	for i, f := range s.findings {
		out[i] = slices.Clone(f)
	}
	return out
}

// caller is who signed a request.
type caller struct {
	akid, region, account, kind string
}

// callerOf reads the SigV4 Authorization header. The signature is not verified.
func (s *Server) callerOf(r *http.Request) caller {
	c := caller{kind: kindCentral, account: s.opts.CallerAccount}
	auth := r.Header.Get("Authorization")
	if i := strings.Index(auth, "Credential="); i >= 0 {
		cred := auth[i+len("Credential="):]
		if j := strings.IndexAny(cred, ", "); j >= 0 {
			cred = cred[:j]
		}
		parts := strings.Split(cred, "/")
		c.akid = parts[0]
		if len(parts) >= 3 {
			c.region = parts[2]
		}
	}
	if m := issuedKey.FindStringSubmatch(c.akid); m != nil {
		c.account, c.kind = m[1], m[2]
	}
	return c
}

// admit records a call and decides whether a fault answers it. It must be called with s.mu held.
func (s *Server) admit(service, op string, c caller) *APIError {
	call := Call{Service: service, Operation: op, Region: c.region, AccessKeyID: c.akid, Account: c.account}
	var answer *APIError
	if t := s.throttles[service]; t != nil {
		t.n++
		if (t.every > 0 && t.n%t.every == 0) || (t.fraction > 0 && s.rng.Float64() < t.fraction) {
			e := throttleError(service)
			answer = &e
		}
	}
	if answer == nil {
		if f := s.faults[service+"."+op]; f != nil && f.times != 0 {
			e := f.err
			answer = &e
			if f.times > 0 {
				f.times--
			}
		}
	}
	if answer != nil {
		call.Error = answer.Code
	}
	s.calls = append(s.calls, call)
	return answer
}

// noteError records the error code of the last call (an answer other than a fault).
func (s *Server) noteError(code string) {
	if n := len(s.calls); n > 0 {
		s.calls[n-1].Error = code
	}
}

// throttleError is each service's real throttling answer.
func throttleError(service string) APIError {
	switch service {
	case Organizations:
		return APIError{http.StatusBadRequest, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress. Try again later."}
	case EventBridge:
		return APIError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	case SecurityHub:
		return APIError{http.StatusTooManyRequests, "LimitExceededException", "Rate exceeded"}
	}
	return APIError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func cloneDoc(d org.SnapshotDoc) org.SnapshotDoc {
	out := d
	out.Organization.Tags = maps.Clone(d.Organization.Tags)
	out.Organization.Features = slices.Clone(d.Organization.Features)
	out.Organization.Trails = slices.Clone(d.Organization.Trails)
	out.OrganizationalUnits = slices.Clone(d.OrganizationalUnits)
	for i := range out.OrganizationalUnits {
		out.OrganizationalUnits[i].Tags = maps.Clone(out.OrganizationalUnits[i].Tags)
	}
	out.Accounts = slices.Clone(d.Accounts)
	for i := range out.Accounts {
		a := &out.Accounts[i]
		a.Tags = maps.Clone(a.Tags)
		if a.Root != nil {
			r := *a.Root
			a.Root = &r
		}
	}
	out.Policies = slices.Clone(d.Policies)
	for i := range out.Policies {
		p := &out.Policies[i]
		p.Tags = maps.Clone(p.Tags)
		p.Targets = slices.Clone(p.Targets)
	}
	return out
}
