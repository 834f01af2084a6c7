package rule

import (
	"testing"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

func TestOwnership(t *testing.T) {
	cfg, err := Config{StaxDomains: []string{"stax.example", " Other.Example. "}}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, want string
	}{
		{"ops@stax.example", finding.StaxOwned},
		{"ops@eu.stax.example.", finding.StaxOwned},
		{"OPS@EU.STAX.EXAMPLE", finding.StaxOwned},
		{"root+mgmt@accounts.stax.example", finding.StaxOwned},
		{"x@other.example", finding.StaxOwned},
		{"ops@stax.example.evil.test", finding.CustomerOwned},
		{"ops@notstax.example", finding.CustomerOwned},
		{"ops@stax.examplex", finding.CustomerOwned},
		{"ops@acme-corp.example", finding.CustomerOwned},
		{"ops@ACME-Corp.example.", finding.CustomerOwned},
		{"stax.example@evil.test", finding.CustomerOwned},
		{"a@b@stax.example", finding.StaxOwned},
		{"", finding.Unknown},
		{"no-at-sign", finding.Unknown},
		{"trailing@", finding.Unknown},
	} {
		t.Run(tc.email, func(t *testing.T) {
			if got := cfg.Ownership(tc.email); got != tc.want {
				t.Errorf("Ownership(%q) = %s, want %s", tc.email, got, tc.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"domain with @", Config{StaxDomains: []string{"a@stax.example"}}},
		{"domain without dot", Config{StaxDomains: []string{"localhost"}}},
		{"inner wildcard name", Config{ProtectionSCPNames: []string{"Stax*Protection"}}},
		{"trusted prefix", Config{TrustedPrincipals: []string{"arn:aws:iam::111111111111:role/stax-*"}}},
		{"trusted not arn", Config{TrustedPrincipals: []string{"stax-automation"}}},
		{"negative max age", Config{ExceptionMaxAge: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewEngine(tc.cfg); err == nil {
				t.Errorf("NewEngine(%+v) accepted a bad configuration", tc.cfg)
			}
		})
	}
}

func TestProtectionNames(t *testing.T) {
	cfg, _ := Config{}.normalized()
	for name, want := range map[string]bool{
		"Stax-Protection":                true,
		"stax-protection-aws-baseline-1": true,
		"STAX-PROTECTION-foundation":     true,
		"Stax-Protectio":                 false,
		"my-Stax-Protection":             false,
		"FullAWSAccess":                  false,
	} {
		if got := cfg.IsProtectionName(name); got != want {
			t.Errorf("IsProtectionName(%q) = %v, want %v", name, got, want)
		}
	}
	exact, _ := Config{ProtectionSCPNames: []string{"Guard"}}.normalized()
	if !exact.IsProtectionName("guard") || exact.IsProtectionName("Guard-2") {
		t.Error("an exact name must match case-insensitively and only exactly")
	}
}

func ptr[T any](v T) *T { return &v }

// effectOrg is a small organization: root r-1 > ou-1-a > ou-1-b; accounts under each.
func effectOrg(t *testing.T, scpEnabled *bool, protectionTargets ...string) *org.Snapshot {
	t.Helper()
	doc := org.SnapshotDoc{
		Organization: org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: scpEnabled},
		OrganizationalUnits: []org.OU{
			{ID: "ou-1-a", Name: "A", ParentID: "r-1"},
			{ID: "ou-1-b", Name: "B", ParentID: "ou-1-a"},
		},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "mgmt", Email: ptr("m@stax.example"), ParentID: "r-1"},
			{ID: "200000000000", Name: "at-root", Email: ptr("r@stax.example"), ParentID: "r-1"},
			{ID: "300000000000", Name: "in-a", Email: ptr("a@stax.example"), ParentID: "ou-1-a"},
			{ID: "400000000000", Name: "in-b", Email: ptr("b@stax.example"), ParentID: "ou-1-b"},
		},
		Policies: []org.Policy{
			{ID: "p-full", Name: "FullAWSAccess", Type: org.PolicyTypeSCP, AWSManaged: true, Targets: []string{"r-1"}},
			{ID: "p-prot", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Content: ptr(guardContent), Targets: protectionTargets},
			{ID: "p-tag", Name: "Stax-Protection-tags", Type: "TAG_POLICY", Targets: []string{"r-1"}},
		},
	}
	s, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEffectiveness(t *testing.T) {
	cfg, _ := Config{StaxDomains: []string{"stax.example"}}.normalized()
	on := ptr(true)
	for _, tc := range []struct {
		name    string
		enabled *bool
		targets []string
		account string
		parent  string
		want    Effect
	}{
		{"attached at root", on, []string{"r-1"}, "400000000000", "", Effective},
		{"attached at the OU above", on, []string{"ou-1-a"}, "400000000000", "", Effective},
		{"attached at the direct OU", on, []string{"ou-1-b"}, "400000000000", "", Effective},
		{"attached at the account", on, []string{"400000000000"}, "400000000000", "", Effective},
		{"attached to a sibling only", on, []string{"300000000000"}, "400000000000", "", NotEffective},
		{"attached below the account's OU", on, []string{"ou-1-b"}, "300000000000", "", NotEffective},
		{"attached nowhere", on, nil, "200000000000", "", NotEffective},
		{"policy type disabled", ptr(false), []string{"r-1"}, "400000000000", "", NotEffective},
		{"policy type state unknown", nil, []string{"r-1"}, "400000000000", "", EffectUnknown},
		{"management account", on, []string{"r-1"}, "100000000000", "", NotApplicable},
		{"unknown account", on, []string{"r-1"}, "999999999999", "", EffectUnknown},
		{"destination OU given (moved)", on, []string{"ou-1-b"}, "200000000000", "ou-1-b", Effective},
		{"destination outside the protected OU", on, []string{"ou-1-b"}, "400000000000", "ou-1-a", NotEffective},
		{"same-name policy of another type does not count", on, nil, "300000000000", "", NotEffective},
	} {
		t.Run(tc.name, func(t *testing.T) {
			facts := effectOrg(t, tc.enabled, tc.targets...)
			got, why := protectionState(facts, &cfg, tc.account, tc.parent)
			if got != tc.want {
				t.Errorf("protection = %v (%s), want %v", got, why, tc.want)
			}
			if why == "" && got != Effective {
				t.Error("no explanation given")
			}
		})
	}
}

func TestSubjectRoles(t *testing.T) {
	cfg, _ := Config{StaxDomains: []string{"stax.example"}}.normalized()
	facts := effectOrg(t, ptr(true), "r-1")
	c := &Ctx{Facts: facts, Cfg: &cfg}
	if s := c.Subject("100000000000"); s.Role != finding.Management || s.Ownership != finding.StaxOwned {
		t.Errorf("management: %+v", s)
	}
	if s := c.Subject("300000000000"); s.Role != finding.Member || !s.StaxMember() {
		t.Errorf("member: %+v", s)
	}
	if s := c.Subject("999999999999"); s.Role != finding.Unknown || s.Ownership != finding.Unknown || s.Problem == "" {
		t.Errorf("unknown: %+v", s)
	}
	empty := &Ctx{Facts: org.Empty{}, Cfg: &cfg}
	if s := empty.Subject("300000000000"); s.Ownership != finding.Unknown {
		t.Errorf("no facts: %+v", s)
	}
}
