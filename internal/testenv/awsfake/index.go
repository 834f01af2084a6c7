package awsfake

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/org"
)

// index is the seed organization indexed for answering.
type index struct {
	org      org.Organization
	ous      map[string]*org.OU
	accounts map[string]*org.Account
	policies map[string]*org.Policy
	attached map[string][]string // target -> policy ids, in seed order
	childOUs map[string][]string // parent -> OU ids, in seed order
	childAcc map[string][]string // parent -> account ids, in seed order
	ouOrder  []string
	accOrder []string
	polOrder []string
}

func newIndex(doc org.SnapshotDoc) (*index, error) {
	if _, err := org.NewSnapshot(doc); err != nil {
		return nil, err
	}
	x := &index{
		org:      doc.Organization,
		ous:      map[string]*org.OU{},
		accounts: map[string]*org.Account{},
		policies: map[string]*org.Policy{},
		attached: map[string][]string{},
		childOUs: map[string][]string{},
		childAcc: map[string][]string{},
	}
	for i := range doc.OrganizationalUnits {
		ou := &doc.OrganizationalUnits[i]
		x.ous[ou.ID] = ou
		x.ouOrder = append(x.ouOrder, ou.ID)
		x.childOUs[ou.ParentID] = append(x.childOUs[ou.ParentID], ou.ID)
	}
	for i := range doc.Accounts {
		a := &doc.Accounts[i]
		x.accounts[a.ID] = a
		x.accOrder = append(x.accOrder, a.ID)
		x.childAcc[a.ParentID] = append(x.childAcc[a.ParentID], a.ID)
	}
	for i := range doc.Policies {
		p := &doc.Policies[i]
		x.policies[p.ID] = p
		x.polOrder = append(x.polOrder, p.ID)
		for _, t := range p.Targets {
			if !slices.Contains(x.attached[t], p.ID) {
				x.attached[t] = append(x.attached[t], p.ID)
			}
		}
	}
	return x, nil
}

func (x *index) mgmt() string { return x.org.ManagementAccountID }

func (x *index) isRoot(id string) bool { return id != "" && id == x.org.RootID }

// known reports whether id is the root, an OU or an account.
func (x *index) known(id string) bool {
	return x.isRoot(id) || x.ous[id] != nil || x.accounts[id] != nil
}

func (x *index) parentOf(id string) string {
	if ou := x.ous[id]; ou != nil {
		return ou.ParentID
	}
	if a := x.accounts[id]; a != nil {
		return a.ParentID
	}
	return ""
}

// path is the Organizations entity path of an OU or account: o-.../r-.../ou-.../<id>/.
func (x *index) path(id string) string {
	var chain []string
	for cur, n := id, 0; cur != "" && n < 10; n++ {
		chain = append(chain, cur)
		if x.isRoot(cur) {
			break
		}
		cur = x.parentOf(cur)
	}
	slices.Reverse(chain)
	return x.org.ID + "/" + strings.Join(chain, "/") + "/"
}

func (x *index) rootARN() string {
	return fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", x.mgmt(), x.org.ID, x.org.RootID)
}

func (x *index) ouARN(id string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:ou/%s/%s", x.mgmt(), x.org.ID, id)
}

func (x *index) accountARN(id string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", x.mgmt(), x.org.ID, id)
}

func (x *index) policyARN(p *org.Policy) string {
	kind := strings.ToLower(policyType(p))
	if p.AWSManaged {
		return fmt.Sprintf("arn:aws:organizations::aws:policy/%s/%s", kind, p.ID)
	}
	return fmt.Sprintf("arn:aws:organizations::%s:policy/%s/%s/%s", x.mgmt(), x.org.ID, kind, p.ID)
}

// scpEnabled: a seed's null counts as disabled.
func (x *index) scpEnabled() bool {
	return x.org.SCPEnabled != nil && *x.org.SCPEnabled
}

// policyTypes are the policy types enabled at the root: SCPs when the seed says so, and every
// other type a seed policy has.
func (x *index) policyTypes() []string {
	var out []string
	if x.scpEnabled() {
		out = append(out, org.PolicyTypeSCP)
	}
	for _, id := range x.polOrder {
		if t := policyType(x.policies[id]); t != org.PolicyTypeSCP && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func policyType(p *org.Policy) string {
	if p.Type == "" {
		return org.PolicyTypeSCP
	}
	return p.Type
}

// rootState is an account's root credential state; nil when the account is not readable.
func (x *index) rootState(account string) *org.RootCredentials {
	a := x.accounts[account]
	if a == nil {
		return nil
	}
	return a.Root
}
