package awsorg

import "github.com/rootguard/rootguard/internal/org"

// OUs lists the organization's OUs (id, name and parent; tags are not read), walking the tree
// from the root: the audit's daily report names them in its organization tree.
func (v *View) OUs() ([]org.OU, error) {
	t, err := v.walk()
	if err != nil {
		return nil, err
	}
	return t.ous, nil
}
