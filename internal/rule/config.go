package rule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

// DefaultProtectionSCPNames is the default protection SCP name list.
var DefaultProtectionSCPNames = []string{"Stax-Protection*"}

// DefaultExceptionMaxAge is the longest an approved exception may run past the event or audit.
const DefaultExceptionMaxAge = 24 * time.Hour

// DefaultTrustSuspension is how long a trusted principal or exception approver stays suspended
// after TRUSTED-PRINCIPAL-CHANGED.
const DefaultTrustSuspension = 24 * time.Hour

// Config is what the rules need besides the event and the organization facts. The CLI fills it
// from flags and ROOTGUARD_* environment variables, the Lambdas from the environment.
type Config struct {
	// StaxDomains are the Stax-managed email domains (ROOTGUARD_STAX_DOMAINS); an account whose
	// root email is on one of them, or a subdomain, is Stax-owned.
	StaxDomains []string
	// ProtectionSCPNames name the protection SCP (ROOTGUARD_PROTECTION_SCP); a trailing `*` means
	// "starts with"; compared case-insensitively. Empty means DefaultProtectionSCPNames.
	ProtectionSCPNames []string
	// TrustedPrincipals are exact principal ARNs whose protection changes are sanctioned
	// (ROOTGUARD_TRUSTED_PRINCIPALS).
	TrustedPrincipals []string
	// ExceptionMaxAge bounds an approved exception's expiry (ROOTGUARD_EXCEPTION_MAX_AGE).
	ExceptionMaxAge time.Duration
	// DeploymentPrincipals are the principal ARNs (* matches any characters) that deploy rootguard
	// and so may change its resources without FORWARDER-TAMPERED (ROOTGUARD_DEPLOYMENT_PRINCIPALS);
	// empty means DefaultDeploymentPrincipals.
	DeploymentPrincipals []string
	// ExceptionApprovers are the principals whose TagResource of the exception tag grants an
	// exception (ROOTGUARD_EXCEPTION_APPROVERS): a role ARN matches every session of the role, a
	// user ARN that user. Without approvers no exception counts.
	ExceptionApprovers []string
	// TrustSuspension is how long a trusted principal or approver is neither trusted nor an
	// approver after TRUSTED-PRINCIPAL-CHANGED (ROOTGUARD_TRUST_SUSPENSION, default 24h).
	TrustSuspension time.Duration
}

// normalized returns a validated copy with defaults filled in.
func (c Config) normalized() (Config, error) {
	var errs []error
	var domains []string
	for _, d := range c.StaxDomains {
		d = normalizeDomain(d)
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			errs = append(errs, fmt.Errorf("stax domain %q is not a domain name (want e.g. stax.example)", d))
			continue
		}
		domains = append(domains, d)
	}
	c.StaxDomains = domains
	var names []string
	for _, n := range c.ProtectionSCPNames {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if strings.Contains(strings.TrimSuffix(n, "*"), "*") {
			errs = append(errs, fmt.Errorf("protection SCP name %q: only a trailing * is supported", n))
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		names = DefaultProtectionSCPNames
	}
	c.ProtectionSCPNames = names
	var trusted []string
	for _, p := range c.TrustedPrincipals {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.HasPrefix(p, "arn:") || strings.Contains(p, "*") {
			errs = append(errs, fmt.Errorf("trusted principal %q is not an exact ARN", p))
			continue
		}
		trusted = append(trusted, p)
	}
	c.TrustedPrincipals = trusted
	approvers, aerrs := principalList("exception approver", c.ExceptionApprovers)
	c.ExceptionApprovers = approvers
	errs = append(errs, aerrs...)
	if c.TrustSuspension == 0 {
		c.TrustSuspension = DefaultTrustSuspension
	}
	if c.TrustSuspension < 0 {
		errs = append(errs, fmt.Errorf("trust suspension %s is negative", c.TrustSuspension))
	}
	if c.ExceptionMaxAge == 0 {
		c.ExceptionMaxAge = DefaultExceptionMaxAge
	}
	if c.ExceptionMaxAge < 0 {
		errs = append(errs, fmt.Errorf("exception max age %s is negative", c.ExceptionMaxAge))
	}
	return c, errors.Join(errs...)
}

func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// Ownership classifies a root email: stax-owned when its domain equals a Stax-managed domain or
// is a subdomain of one, customer-owned otherwise, unknown when the email is empty.
func (c *Config) Ownership(email string) string {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if email == "" || at < 0 || at == len(email)-1 {
		return finding.Unknown
	}
	domain := normalizeDomain(email[at+1:])
	for _, d := range c.StaxDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return finding.StaxOwned
		}
	}
	return finding.CustomerOwned
}

// IsProtectionName reports whether a policy name matches the protection SCP names.
func (c *Config) IsProtectionName(name string) bool {
	for _, n := range c.ProtectionSCPNames {
		if prefix, ok := strings.CutSuffix(n, "*"); ok {
			if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
				return true
			}
		} else if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}
