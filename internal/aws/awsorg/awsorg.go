// Package awsorg reads the organization facts live from AWS, behind the org.Facts interface the
// rules use: Organizations (from its us-east-1 endpoint) for the organization, its tree, its SCPs
// and tags, and each account's root credential state read inside the account, either through a
// read-only audit role or through sts:AssumeRoot with the IAMAuditRootUserCredentials task
// policy.
//
// Facts is built once per process and caches what it reads across warm invocations, each fact for
// a TTL; Invalidate drops what an Organizations change event touches. For binds it to one
// invocation's context (and so its deadline). Policies are remembered: a policy's last recorded
// state answers after it was deleted, and while the event that changed it is evaluated; with a
// Store (the state table) that memory outlives the process and is shared by the functions.
//
// API-call budgets (enforced by the tests, with depth the number of parents of the account
// concerned): a root event for a known account on a warm cache makes no Organizations call; an
// SCP event makes at most depth+3 on a cold cache, plus, since protection is judged by content,
// one DescribePolicy per protection-named SCP whose content a listing did not give, and for a
// MoveAccount the listings of the source's OUs. The design that keeps them:
//   - Organization() is one ListRoots: the root's ARN names the management account and the
//     organization (DescribeOrganization only when the ARN cannot be read);
//   - Account() is one DescribeAccount, whose Paths give the account's whole chain of parents and
//     those of every OU on it; an OU's chain is one DescribeOrganizationalUnit (its Path); ListParents
//     walks up only when a path is missing;
//   - PoliciesFor() is one ListPoliciesForTarget per node, whose summaries also record each
//     policy's name and type, so Policy() of an attached policy costs nothing more (its content
//     is then unknown until a DescribePolicy records it).
package awsorg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
)

// Mode is how root credential state is read inside a member account.
type Mode string

// The root credential reading modes.
const (
	// ModeAuditRole assumes Config.RoleName in the account and reads IAM GetAccountSummary.
	ModeAuditRole Mode = function.ModeAuditRole
	// ModeAssumeRoot opens a centralised root session (sts:AssumeRoot with the
	// IAMAuditRootUserCredentials task policy) and reads GetLoginProfile, ListMFADevices,
	// ListAccessKeys and ListSigningCertificates for the root user.
	ModeAssumeRoot Mode = function.ModeAssumeRoot
)

// DefaultTTL is how long a fact is reused across warm invocations (ROOTGUARD_FACTS_TTL's default).
const DefaultTTL = function.DefaultFactsTTL

// AuditTaskPolicy is the task policy of the centralised root sessions rootguard opens.
const AuditTaskPolicy = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

// Sentinel errors.
var (
	// ErrUnreadable: the root credential state of the account cannot be read (the audit role
	// cannot be assumed, the root session refused, or the reads denied).
	ErrUnreadable = errors.New("root credential state unreadable")
	// ErrPreviousUnknown: the event being evaluated renamed a policy rootguard had never recorded,
	// so its previous state is unknown.
	ErrPreviousUnknown = errors.New("previous state never recorded")
)

// Config configures Facts.
type Config struct {
	// Mode selects how root credential state is read (ROOTGUARD_ROOT_CREDENTIALS_MODE); default
	// ModeAuditRole.
	Mode Mode
	// RoleName is the read-only audit role deployed in every account (ROOTGUARD_AUDIT_ROLE_NAME). It
	// is required in ModeAuditRole; in ModeAssumeRoot it is used only to read the management
	// account (AssumeRoot cannot target it) when the function runs in another account.
	RoleName string
	// AccountID is the account the function runs in; "" asks STS GetCallerIdentity once. That
	// account's root state is read with the function's own credentials.
	AccountID string
	// TTL is how long each fact is reused (ROOTGUARD_FACTS_TTL); 0 means DefaultTTL, a negative
	// value disables the cache.
	TTL time.Duration
	// Partition is the ARN partition (default "aws").
	Partition string
	// Concurrency bounds the parallel reads of Accounts, Policies and Snapshot (default 4).
	Concurrency int
	// Metrics, when set, is told of every AWS call.
	Metrics Metrics
	// Logger, when set, receives a warning for each account whose root credential state could
	// not be read by Accounts or Snapshot. Nothing secret is logged.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Store, when set, keeps the last recorded state of policies beyond the process (the state
	// table, see Store): scp-guard and the audit share it.
	Store Store
	// Remember tells which policies the Store keeps by name (the protection SCP names, so that
	// the table holds only those); nil keeps every SCP. A policy the Store already keeps is
	// followed under any name (a protection SCP renamed away stays known).
	Remember func(name string) bool
	// Owners, when set with Ownership, keeps the ownership rootguard recorded per account (the
	// state table, see OwnerStore): Account adds it, and records it the first time it sees an
	// account (ownership.go).
	Owners OwnerStore
	// Ownership classifies a root email: org.OwnershipStax, org.OwnershipCustomer or
	// org.OwnershipUnknown (the rules' configuration, rule.Config.Ownership).
	Ownership func(email string) string
}

// Validate reports a configuration that cannot work, with a message for the operator.
func (c Config) Validate() error {
	switch c.Mode {
	case "", ModeAuditRole:
		if c.RoleName == "" {
			return errors.New("root credentials mode audit-role needs the audit role name (ROOTGUARD_AUDIT_ROLE_NAME)")
		}
	case ModeAssumeRoot:
	default:
		return fmt.Errorf("root credentials mode %q: want %q or %q", c.Mode, ModeAuditRole, ModeAssumeRoot)
	}
	if c.AccountID != "" && !org.IsAccountID(c.AccountID) {
		return fmt.Errorf("account id %q is not a 12-digit account id", c.AccountID)
	}
	if c.Concurrency < 0 {
		return fmt.Errorf("concurrency %d is negative", c.Concurrency)
	}
	return nil
}

// Metrics is told of every AWS call the facts make, after the SDK's retries.
type Metrics interface {
	// AWSCall reports one call: the service ("organizations", "sts", "iam"), the operation and
	// its error (nil on success).
	AWSCall(service, operation string, err error)
}

// Clients are the AWS SDK clients Facts reads through (NewClients builds them; tests point them
// at internal/testenv/awsfake). The IAM client is called with the credentials of a session in
// the member account (per call), so one client serves every account. A client left nil makes the
// reads that need it fail with errNoClient, except Trails: nil records the trails as unknown.
type Clients struct {
	// Organizations reads the organization, its tree, accounts, tags and SCPs.
	Organizations *organizations.Client
	// STS opens sessions in member accounts.
	STS *sts.Client
	// IAM reads the root user's credentials in member accounts and, for Snapshot, the
	// organization's IAM features.
	IAM *iam.Client
	// Trails reads the management account's trails (Snapshot only).
	Trails *cloudtrail.Client
}

// Facts is the live organization facts with their cache. It is safe for concurrent use.
type Facts struct {
	cfg     Config
	clients Clients

	mu       sync.Mutex
	cache    map[string]entry
	policies map[string]*policyRec
	self     string
	last     string // id of the last event Invalidate saw
	stats    Stats

	// email is the root email change of the event being evaluated (ownership.go).
	email *emailChange
}

type entry struct {
	v  any
	at time.Time
}

// Stats counts AWS calls (after the SDK's retries) and their errors, per "service.Operation".
type Stats struct {
	Calls  map[string]int
	Errors map[string]int
}

// Total returns the number of calls and of errors.
func (s Stats) Total() (calls, errs int) {
	for _, n := range s.Calls {
		calls += n
	}
	for _, n := range s.Errors {
		errs += n
	}
	return calls, errs
}

func (s *Stats) add(key string, err error) {
	if s.Calls == nil {
		s.Calls, s.Errors = map[string]int{}, map[string]int{}
	}
	s.Calls[key]++
	if err != nil {
		s.Errors[key]++
	}
}

func (s Stats) clone() Stats {
	return Stats{Calls: maps.Clone(s.Calls), Errors: maps.Clone(s.Errors)}
}

// New returns live facts reading through clients. Check cfg with Config.Validate first: an
// invalid mode makes RootCredentials fail.
func New(cfg Config, clients Clients) *Facts {
	if cfg.Mode == "" {
		cfg.Mode = ModeAuditRole
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Facts{cfg: cfg, clients: clients.complete(), cache: map[string]entry{}, policies: map[string]*policyRec{}, self: cfg.AccountID}
}

// Stats returns the calls made since the process started.
func (f *Facts) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats.clone()
}

// For returns the facts bound to one invocation: every AWS call it makes uses ctx (and so stops
// at its deadline, retries included).
func (f *Facts) For(ctx context.Context) *View {
	return &View{f: f, ctx: ctx}
}

// View is Facts bound to an invocation's context. It implements org.Facts and is safe for
// concurrent use.
type View struct {
	f   *Facts
	ctx context.Context

	mu    sync.Mutex
	stats Stats
}

var _ org.Facts = (*View)(nil)

// Stats returns the AWS calls this view made.
func (v *View) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats.clone()
}

// count records one AWS call.
func (v *View) count(service, op string, err error) {
	key := service + "." + op
	v.mu.Lock()
	v.stats.add(key, err)
	v.mu.Unlock()
	v.f.mu.Lock()
	v.f.stats.add(key, err)
	v.f.mu.Unlock()
	if m := v.f.cfg.Metrics; m != nil {
		m.AWSCall(service, op, err)
	}
}

// get returns a fresh cache entry.
func (f *Facts) get(key string) (any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[key]
	if !ok || !f.fresh(e.at) {
		return nil, false
	}
	return e.v, true
}

func (f *Facts) put(key string, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putLocked(key, v)
}

func (f *Facts) putLocked(key string, v any) {
	if f.cfg.TTL < 0 {
		return
	}
	f.cache[key] = entry{v: v, at: f.cfg.Now()}
}

// fresh reports whether something recorded at t may still be used.
func (f *Facts) fresh(t time.Time) bool {
	return f.cfg.TTL > 0 && f.cfg.Now().Sub(t) < f.cfg.TTL
}

// Cache keys.
func keyAccount(id string) string  { return "account/" + id }
func keyParents(id string) string  { return "parents/" + id }
func keyAttached(id string) string { return "attached/" + id }
func keyTags(id string) string     { return "tags/" + id }
func keyRoot(id string) string     { return "root/" + id }
func keySession(id string) string  { return "session/" + id }

const keyOrganization = "organization"
