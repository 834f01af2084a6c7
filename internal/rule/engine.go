package rule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// catalogue is every rule, root rules first in their evaluation order.
var catalogue = slices.Concat(rootRules, protectionRules, onboardingRules, postureRules, emailRules, forwarderRules, custodyRules)

// Catalogue returns every rule in catalogue order (root rules in evaluation order). The rules
// are shared values: do not modify them.
func Catalogue() []*Rule { return slices.Clone(catalogue) }

// ByID returns a rule by id (for ids read from data: a finding, a sample folder). Code refers
// to a rule by its value.
func ByID(id string) (*Rule, bool) {
	for _, r := range catalogue {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// Validate checks the catalogue's metadata: unique ids, every field filled, an evaluation
// function for every event rule. Tests and the engine call it once.
func Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, r := range catalogue {
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("rule %s: duplicate id", r.ID))
		}
		seen[r.ID] = true
		for name, v := range map[string]string{"Title": r.Title, "When": r.When, "Severity": r.Severity, "Why": r.Why, "Remediation": r.Remediation, "Group": string(r.Group)} {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("rule %s: %s is empty", r.ID, name))
			}
		}
		if len(r.References) == 0 {
			errs = append(errs, fmt.Errorf("rule %s: no references", r.ID))
		}
		if r.eval == nil && !r.AuditOnly && r.Group != GroupPosture {
			errs = append(errs, fmt.Errorf("rule %s: no evaluation function", r.ID))
		}
		errs = append(errs, validateCarried(r)...)
	}
	return errors.Join(errs...)
}

// Engine evaluates events and posture against the catalogue with one configuration.
type Engine struct {
	cfg Config
}

// NewEngine validates the configuration and the catalogue.
func NewEngine(cfg Config) (*Engine, error) {
	if err := Validate(); err != nil {
		return nil, fmt.Errorf("rule catalogue: %w", err)
	}
	n, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: n}, nil
}

// Config returns the normalized configuration.
func (e *Engine) Config() Config { return e.cfg }

// Evaluate runs the rules of the given groups (all when none) on one event. Root rules: at most
// one finding, the first that applies. The result is deterministic for the same inputs.
func (e *Engine) Evaluate(ev *cloudtrail.Event, facts org.Facts, groups ...Group) []finding.Finding {
	return e.EvaluateWith(ev, facts, nil, groups...)
}

// EvaluateWith is Evaluate with the custody state (witnessed exception grants and trust
// suspensions) that decides which exceptions and trusted principals count; nil knows none.
func (e *Engine) EvaluateWith(ev *cloudtrail.Event, facts org.Facts, cu Custody, groups ...Group) []finding.Finding {
	if facts == nil {
		facts = org.Empty{}
	}
	c := &Ctx{Ev: ev, Facts: facts, Cfg: &e.cfg, custody: cu}
	want := func(g Group) bool { return len(groups) == 0 || slices.Contains(groups, g) }
	var out []finding.Finding
	if want(GroupRoot) {
		for _, r := range rootRules {
			if hits := r.eval(c); len(hits) > 0 {
				out = append(out, e.finding(c, r, hits[0]))
				break
			}
		}
	}
	for _, r := range slices.Concat(protectionRules, onboardingRules, emailRules, forwarderRules, custodyRules) {
		if r.eval == nil || !want(r.Group) {
			continue
		}
		for _, h := range r.eval(c) {
			out = append(out, e.finding(c, r, h))
		}
	}
	for _, x := range c.extra {
		out = append(out, e.finding(c, x.rule, x.hit))
	}
	return out
}

// finding turns a hit into a finding with the event's fields.
func (e *Engine) finding(c *Ctx, r *Rule, h Hit) finding.Finding {
	s := c.Subject(h.AccountID)
	ev := c.Ev
	parts := h.IDParts
	if r.Session && humanRoot(ev) {
		// One finding per root session, listing its calls.
		parts = []string{h.AccountID, sessionKey(ev)}
		h.Calls = []string{callName(ev)}
	}
	if parts == nil {
		parts = []string{ev.ID(), h.AccountID}
	}
	f := finding.Finding{
		ID:          finding.ID(r.ID, parts...),
		Rule:        r.ID,
		Severity:    h.Severity,
		AccountID:   h.AccountID,
		AccountName: s.Name,
		Ownership:   s.Ownership,
		AccountRole: s.Role,
		Title:       h.Title,
		Description: h.Description,
		Remediation: remediation(r, h),
		EventID:     ev.ID(),
		EventName:   ev.EventName,
		EventTime:   ev.Time(),
		Region:      ev.Region(),
		Actor:       ev.Actor(),
		SourceIP:    ev.SourceIPAddress,
		Calls:       h.Calls,
		Resources:   h.Resources,
		Canary:      ev.Canary,
		References:  r.References,
		Types:       r.ASFFTypes,
	}
	if len(h.Calls) > 0 && !ev.ReadOnly.Bool() {
		f.WriteCalls = h.Calls
	}
	e.applyException(c, r, &f, parseTime(ev.Time()))
	if len(f.Calls) > 0 {
		f.Description = withCalls(f.Description, f.Calls)
	}
	return f
}

func remediation(r *Rule, h Hit) string {
	switch {
	case h.Remediation != "":
		return h.Remediation
	case h.RemediationPrefix != "":
		return h.RemediationPrefix + " " + r.Remediation
	}
	return r.Remediation
}

const callsMarker = " Calls seen in this session: "

// maxCalls bounds the calls listed in one session finding.
const maxCalls = 50

func withCalls(desc string, calls []string) string {
	if i := strings.Index(desc, callsMarker); i >= 0 {
		desc = desc[:i]
	}
	return desc + callsMarker + strings.Join(calls, ", ") + "."
}

// Merge folds a later finding with the same id (another call of the same root session) into dst:
// the calls seen are listed, and the severity, title and remediation follow the most severe call.
func Merge(dst *finding.Finding, src finding.Finding) {
	for _, c := range src.Calls {
		if len(dst.Calls) >= maxCalls {
			if last := dst.Calls[len(dst.Calls)-1]; last != "..." {
				dst.Calls = append(dst.Calls, "...")
			}
			break
		}
		if !slices.Contains(dst.Calls, c) {
			dst.Calls = append(dst.Calls, c)
		}
	}
	for _, c := range src.WriteCalls {
		if len(dst.WriteCalls) < maxCalls && !slices.Contains(dst.WriteCalls, c) {
			dst.WriteCalls = append(dst.WriteCalls, c)
		}
	}
	if src.Severity > dst.Severity {
		dst.Severity = src.Severity
		dst.Title = src.Title
		dst.Remediation = src.Remediation
		dst.Description = src.Description
	}
	if len(dst.Calls) > 0 {
		dst.Description = withCalls(dst.Description, dst.Calls)
	}
}

// Audit runs the posture and organization checks on every account of the facts. now is the
// audit's time: posture finding ids derive from its day, so an audit repeats a finding at most
// once a day per account and check.
func (e *Engine) Audit(facts org.Facts, now time.Time) ([]finding.Finding, error) {
	return e.AuditWith(facts, nil, now)
}

// AuditWith is Audit with the custody state that decides which exceptions count.
func (e *Engine) AuditWith(facts org.Facts, cu Custody, now time.Time) ([]finding.Finding, error) {
	o, err := facts.Organization()
	if err != nil {
		return nil, fmt.Errorf("audit: read the organization: %w", err)
	}
	accounts, err := facts.Accounts()
	if err != nil {
		return nil, fmt.Errorf("audit: list accounts: %w", err)
	}
	stamp := now.UTC().Format(time.RFC3339)
	dayKey := now.UTC().Format(time.DateOnly)
	c := &Ctx{Ev: &cloudtrail.Event{Record: cloudtrail.Record{EventTime: stamp, UserIdentity: &cloudtrail.UserIdentity{Type: "rootguard-audit"}}}, Facts: facts, Cfg: &e.cfg, custody: cu}
	var out []finding.Finding
	add := func(r *Rule, h Hit) {
		f := e.finding(c, r, h)
		f.EventID, f.EventName, f.Actor = "", "", "rootguard audit"
		out = append(out, f)
	}

	// SCP-MISSING: SCPs disabled, or no protection SCP attached anywhere.
	if missing, why := e.protectionMissing(facts, o); missing {
		add(scpMissing, Hit{
			Severity:    finding.Critical,
			AccountID:   o.ManagementAccountID,
			Title:       "No protection SCP in effect in organization " + o.ID,
			Description: fmt.Sprintf("The audit of organization %s at %s found that %s. The mandatory Stax-Protection SCP is the only control that limits root credentials in member accounts.", o.ID, stamp, why),
			IDParts:     []string{o.ID, dayKey},
			Resources:   []string{o.RootID},
		})
	}
	auditCustody(org.WithGuardFacts(facts, o), stamp, dayKey, add)
	for _, a := range accounts {
		s := c.Subject(a.ID)
		for _, x := range accountChecks(&Account{Facts: facts, Cfg: &e.cfg, Subject: s}, dayKey).hits {
			add(x.rule, x.hit)
		}
	}
	return out, nil
}

func (e *Engine) protectionMissing(facts org.Facts, o org.Organization) (bool, string) {
	return missingGuard(facts, &e.cfg, o)
}

// Replayer evaluates a sequence of events statefully: after each event, its effect on the
// organization (detach, move, rename, ...) is applied to an overlay of the facts, so later events
// and a final audit see the organization as the events left it.
type Replayer struct {
	eng   *Engine
	State *org.Overlay
	// Custody is the exceptions granted and the trust suspended by the events so far.
	Custody *MemCustody
}

// NewReplayer starts a stateful replay over base facts.
func (e *Engine) NewReplayer(base org.Facts) *Replayer {
	if base == nil {
		base = org.Empty{}
	}
	return &Replayer{eng: e, State: org.NewOverlay(base), Custody: NewMemCustody()}
}

// Evaluate evaluates one event, then applies it to the state.
func (r *Replayer) Evaluate(ev *cloudtrail.Event) []finding.Finding {
	out, _, _ := r.step(ev, false, "", nil)
	return out
}

// Audit audits the organization as the events left it, with the exceptions they granted.
func (r *Replayer) Audit(now time.Time) ([]finding.Finding, error) {
	return r.eng.AuditWith(r.State, r.Custody, now)
}
