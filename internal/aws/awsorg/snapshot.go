package awsorg

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootguard/rootguard/internal/org"
)

// Snapshot reads the whole organization from AWS as a snapshot document (the format of
// rules.md), through the same code as the live facts: the organization and the root's tags, the
// tree of OUs with their tags, every account with its tags and root credential state (null when
// it cannot be read) and every policy (SCPs, and each other policy type enabled at the root) with
// its content, targets and tags. The document is checked
// with org.NewSnapshot before it is returned.
func Snapshot(ctx context.Context, f *Facts) (org.SnapshotDoc, error) {
	v := f.For(ctx)
	o, err := v.Organization()
	if err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	if o.Tags, err = v.Tags(o.RootID); err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	o.Features, o.Trails = v.Features(), v.Trails()
	t, err := v.walk()
	if err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	ous := t.ous
	err = f.each(len(ous), func(i int) error {
		tags, err := v.Tags(ous[i].ID)
		ous[i].Tags = tags
		return err
	})
	if err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	sort.Slice(ous, func(i, j int) bool { return ous[i].ID < ous[j].ID })
	accounts, err := v.accounts(t)
	if err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	info, err := v.organization()
	if err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
	}
	kinds := []types.PolicyType{types.PolicyTypeServiceControlPolicy}
	for _, k := range info.types {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	var policies []org.Policy
	for _, k := range kinds {
		ps, err := v.policies(k)
		if err != nil {
			return org.SnapshotDoc{}, fmt.Errorf("snapshot: %w", err)
		}
		policies = append(policies, ps...)
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].ID < policies[j].ID })
	if ous == nil {
		ous = []org.OU{}
	}
	if accounts == nil {
		accounts = []org.Account{}
	}
	if policies == nil {
		policies = []org.Policy{}
	}
	doc := org.SnapshotDoc{Organization: o, OrganizationalUnits: ous, Accounts: accounts, Policies: policies}
	if _, err := org.NewSnapshot(doc); err != nil {
		return org.SnapshotDoc{}, fmt.Errorf("snapshot: the organization read is not consistent (did it change while it was read?): %w", err)
	}
	return doc, nil
}
