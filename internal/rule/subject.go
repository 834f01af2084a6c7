package rule

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// Subject is an account as the rules see it.
type Subject struct {
	ID        string
	Name      string
	Email     string
	Ownership string // finding.StaxOwned, CustomerOwned or Unknown
	Role      string // finding.Management, Member or Unknown
	// Problem says why ownership or role is unknown ("" when both are known).
	Problem string
	// Sticky says why the ownership is stricter than the current root email ("" when it is
	// not): the recorded ownership was kept (see ownership.go).
	Sticky string
}

// StaxMember reports a Stax-owned member account.
func (s Subject) StaxMember() bool {
	return s.Ownership == finding.StaxOwned && s.Role == finding.Member
}

// StaxManagement reports a Stax-owned management account.
func (s Subject) StaxManagement() bool {
	return s.Ownership == finding.StaxOwned && s.Role == finding.Management
}

// Label is "id (name)" or the id.
func (s Subject) Label() string {
	if s.Name != "" {
		return fmt.Sprintf("%s (%s)", s.ID, s.Name)
	}
	if s.ID == "" {
		return "an unidentified account"
	}
	return s.ID
}

// Describe is a phrase such as "Stax-owned member account 222222222222 (web)".
func (s Subject) Describe() string {
	var b strings.Builder
	switch s.Ownership {
	case finding.StaxOwned:
		b.WriteString("Stax-owned ")
	case finding.CustomerOwned:
		b.WriteString("customer-owned ")
	}
	switch s.Role {
	case finding.Management:
		b.WriteString("management account ")
	case finding.Member:
		b.WriteString("member account ")
	default:
		b.WriteString("account ")
	}
	b.WriteString(s.Label())
	if s.Ownership == finding.Unknown {
		b.WriteString(" (ownership unknown")
		if s.Problem != "" {
			b.WriteString(": " + s.Problem)
		}
		b.WriteString(", so the strictest case applies)")
	}
	if s.Sticky != "" {
		b.WriteString(" (" + s.Sticky + ")")
	}
	return b.String()
}

// Actor is who must act for this account under the policy.
func (s Subject) Actor() string {
	switch s.Ownership {
	case finding.StaxOwned:
		return "Stax"
	case finding.CustomerOwned:
		return "The customer (the account owner)"
	}
	return "Stax, until the account's owner is confirmed,"
}

func (c *Ctx) organization() (org.Organization, error) {
	if c.orgInfo == nil {
		o, err := c.Facts.Organization()
		c.orgInfo = &orgInfo{org: o, err: err}
	}
	return c.orgInfo.org, c.orgInfo.err
}

// Subject resolves an account's name, ownership and role, failing closed to unknown.
func (c *Ctx) Subject(id string) Subject {
	if s, ok := c.subjects[id]; ok {
		return s
	}
	s := resolveSubject(c.Facts, c.Cfg, id, func() (org.Organization, error) { return c.organization() })
	if c.subjects == nil {
		c.subjects = map[string]Subject{}
	}
	c.subjects[id] = s
	return s
}

func resolveSubject(facts org.Facts, cfg *Config, id string, orgFn func() (org.Organization, error)) Subject {
	s := Subject{ID: id, Ownership: finding.Unknown, Role: finding.Unknown}
	if id == "" {
		s.Problem = "the event names no account"
		return s
	}
	o, oerr := orgFn()
	a, err := facts.Account(id)
	switch {
	case err == nil:
		s.Name = a.Name
		s.Email = a.EmailAddress()
		s.Ownership = cfg.Ownership(s.Email)
		s.Ownership, s.Sticky = stickyOwnership(s.Ownership, a)
		if s.Ownership == finding.Unknown {
			s.Problem = "its root email is unknown"
		}
		if oerr == nil && o.ManagementAccountID != "" {
			if o.ManagementAccountID == id {
				s.Role = finding.Management
			} else {
				s.Role = finding.Member
			}
		} else if s.Problem == "" {
			s.Problem = "the management account is unknown"
		}
	case errors.Is(err, org.ErrNotFound):
		s.Problem = "not in the organization facts"
		if oerr == nil && o.ManagementAccountID == id {
			s.Role = finding.Management
		}
	default:
		s.Problem = "the organization facts could not be read: " + err.Error()
	}
	return s
}

// Effect is the state of the protection SCP on an account.
type Effect int

// The protection states.
const (
	EffectUnknown Effect = iota
	Effective
	NotEffective
	NotApplicable // the management account: SCPs never apply
)

// protection reports whether the protection SCP is effective on an account, walking the chain
// of parents from parent (or the account's own parent chain when parent is ""). why explains.
func (c *Ctx) protection(accountID, parent string) (Effect, string) {
	return protectionState(c.Facts, c.Cfg, accountID, parent)
}

func protectionState(facts org.Facts, cfg *Config, accountID, parent string) (Effect, string) {
	s := scanProtection(facts, cfg, accountID, parent)
	return s.effect, s.why
}

func isProtectionPolicy(cfg *Config, p org.Policy) bool {
	return (p.Type == "" || p.Type == org.PolicyTypeSCP) && cfg.IsProtectionName(p.Name)
}

// protectionPolicy looks a policy id up: is it a protection SCP? known is false when the facts
// could not be read (not when the policy is simply not in them).
func (c *Ctx) protectionPolicy(id string) (p org.Policy, protection, known bool) {
	p, err := c.Facts.Policy(id)
	if err != nil {
		if errors.Is(err, org.ErrNotFound) {
			return org.Policy{ID: id}, false, true
		}
		return org.Policy{ID: id}, false, false
	}
	return p, isProtectionPolicy(c.Cfg, p), true
}
