package rule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/policy"
)

// Effectiveness is judged by content (rules.md, "Root-guarding" and "Effective"): a
// protection-named SCP counts only when its content has a root-aimed Deny; content that cannot be
// read counts as not root-guarding (fail closed). The SCP-* event rules still cover every
// protection-named SCP.

// rootGuarding reports whether a protection-named policy's content has a Deny aimed at the root
// user of account (of any account when account is not an account id); why says why not.
func rootGuarding(facts org.Facts, p org.Policy, account string) (bool, string) {
	if p.Content == nil && facts != nil {
		if full, err := org.PolicyWithContent(facts, p.ID); err == nil && full.Content != nil {
			p.Content = full.Content
		}
	}
	return contentGuards(p.Content, account)
}

// guardVerdict is contentGuards' answer for one (content, account).
type guardVerdict struct {
	ok  bool
	why string
}

// guardMemo remembers contentGuards' answers: every root call of a member account asks it for
// each protection SCP above the account, and an organization has few distinct SCP documents.
// The answer is a pure function of its key; at most maxGuardMemo entries are kept.
var (
	guardMemo     sync.Map // account + "\x00" + content -> guardVerdict
	guardMemoSize atomic.Int64
)

const maxGuardMemo = 512

// contentGuards is rootGuarding on content alone (nil: unknown).
func contentGuards(content *string, account string) (bool, string) {
	if content == nil || strings.TrimSpace(*content) == "" {
		return false, "its content is unknown, so it is not counted as root-guarding (fail closed)"
	}
	if !org.IsAccountID(account) {
		account = ""
	}
	key := account + "\x00" + *content
	if v, ok := guardMemo.Load(key); ok {
		g := v.(guardVerdict)
		return g.ok, g.why
	}
	ok, why := parseGuards(*content, account)
	if guardMemoSize.Load() < maxGuardMemo {
		if _, loaded := guardMemo.LoadOrStore(key, guardVerdict{ok, why}); !loaded {
			guardMemoSize.Add(1)
		}
	}
	return ok, why
}

// parseGuards parses a policy document and looks for a Deny aimed at root (of account when set).
func parseGuards(content, account string) (bool, string) {
	doc, err := policy.Parse(content)
	if err != nil {
		return false, "its content could not be read (" + err.Error() + "), so it is not counted as root-guarding (fail closed)"
	}
	if len(doc.RootAimedDenies(account)) == 0 {
		if account != "" {
			return false, "its content has no Deny aimed at the root user of " + account
		}
		return false, "its content has no Deny aimed at root"
	}
	return true, ""
}

// appliedSCP is a protection-named SCP found on an account's chain.
type appliedSCP struct {
	policy   org.Policy
	node     string // where it is attached
	guarding bool
	why      string // why it is not root-guarding
}

func (a appliedSCP) label() string { return policyLabel(a.policy) + " on " + a.node }

// protectionScan is what applies to an account: every protection-named SCP on its chain (the
// account, its OUs, the root) and the resulting effect.
type protectionScan struct {
	effect  Effect
	why     string
	applied []appliedSCP
}

// guarding returns the root-guarding protection SCPs that apply.
func (s protectionScan) guarding() []appliedSCP {
	return slices.DeleteFunc(slices.Clone(s.applied), func(a appliedSCP) bool { return !a.guarding })
}

// hasPolicy reports whether the protection SCP id applies.
func (s protectionScan) hasPolicy(id string) bool {
	return slices.ContainsFunc(s.applied, func(a appliedSCP) bool { return a.policy.ID == id })
}

// ignoredNote lists the protection-named SCPs that apply but are not root-guarding.
func (s protectionScan) ignoredNote() string {
	var parts []string
	for _, a := range s.applied {
		if !a.guarding {
			parts = append(parts, fmt.Sprintf("%s (%s)", a.label(), a.why))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; protection-named SCPs ignored because they are not root-guarding: " + strings.Join(parts, "; ")
}

// scanProtection walks the chain of an account (from parent, or the account's own parents when
// parent is "") and collects the protection-named SCPs attached on it.
func scanProtection(facts org.Facts, cfg *Config, accountID, parent string) protectionScan {
	o, err := facts.Organization()
	if err != nil {
		return protectionScan{effect: EffectUnknown, why: "the organization could not be read"}
	}
	if o.ManagementAccountID != "" && o.ManagementAccountID == accountID {
		return protectionScan{effect: NotApplicable, why: "SCPs never apply to the management account"}
	}
	if o.SCPEnabled == nil {
		return protectionScan{effect: EffectUnknown, why: "whether SCPs are enabled at the root is unknown"}
	}
	if !*o.SCPEnabled {
		return protectionScan{effect: NotEffective, why: "the SCP policy type is disabled at the organization root"}
	}
	chain := []string{accountID}
	if parent != "" {
		chain = append(chain, parent)
		up, err := facts.Parents(parent)
		if err != nil && parent != o.RootID {
			return protectionScan{effect: EffectUnknown, why: fmt.Sprintf("the parents of %s could not be read", parent)}
		}
		chain = append(chain, up...)
	} else {
		up, err := facts.Parents(accountID)
		if err != nil {
			if errors.Is(err, org.ErrNotFound) {
				return protectionScan{effect: EffectUnknown, why: "the account is not in the organization facts"}
			}
			return protectionScan{effect: EffectUnknown, why: "the account's parents could not be read"}
		}
		chain = append(chain, up...)
	}
	if o.RootID != "" && !slices.Contains(chain, o.RootID) {
		chain = append(chain, o.RootID)
	}
	var s protectionScan
	unknown := ""
	for _, node := range chain {
		ids, err := facts.PoliciesFor(node)
		if err != nil {
			unknown = fmt.Sprintf("the SCPs attached to %s could not be read", node)
			continue
		}
		for _, id := range ids {
			p, err := facts.Policy(id)
			if err != nil || !isProtectionPolicy(cfg, p) || s.hasPolicy(p.ID) {
				continue
			}
			ok, why := rootGuarding(facts, p, accountID)
			s.applied = append(s.applied, appliedSCP{policy: p, node: node, guarding: ok, why: why})
		}
	}
	if g := s.guarding(); len(g) > 0 {
		s.effect = Effective
		s.why = fmt.Sprintf("root-guarding protection SCP %s (%s) is attached to %s", g[0].policy.Name, g[0].policy.ID, g[0].node)
		return s
	}
	if unknown != "" {
		s.effect, s.why = EffectUnknown, unknown+s.ignoredNote()
		return s
	}
	s.effect = NotEffective
	s.why = "no root-guarding protection SCP is attached to the account, any OU above it, or the root" + s.ignoredNote()
	return s
}

// missingGuard is SCP-MISSING's test: no root-guarding protection SCP attached anywhere. why
// names the protection-named policies that were ignored and why.
func missingGuard(facts org.Facts, cfg *Config, o org.Organization) (bool, string) {
	if o.SCPEnabled != nil && !*o.SCPEnabled {
		return true, "the SCP policy type is disabled at the organization root " + o.RootID
	}
	policies, err := facts.Policies()
	if err != nil {
		return true, "the organization's SCPs could not be listed (" + err.Error() + ")"
	}
	var ignored []string
	named := 0
	for _, p := range policies {
		if !isProtectionPolicy(cfg, p) {
			continue
		}
		named++
		if len(p.Targets) == 0 {
			ignored = append(ignored, policyLabel(p)+" (attached nowhere)")
			continue
		}
		ok, why := rootGuarding(facts, p, "")
		if ok {
			return false, ""
		}
		ignored = append(ignored, fmt.Sprintf("%s (%s)", policyLabel(p), why))
	}
	if named == 0 {
		return true, fmt.Sprintf("no SCP matches the protection SCP names (%s)", strings.Join(cfg.ProtectionSCPNames, ", "))
	}
	return true, "no root-guarding protection SCP is attached anywhere; protection-named SCPs ignored: " + strings.Join(ignored, "; ")
}
