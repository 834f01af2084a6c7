package awsorg

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/rootguard/rootguard/internal/org"
)

const svcOrganizations = "organizations"

// maxDepth bounds every walk of the tree (AWS allows five levels of OUs under the root).
const maxDepth = 10

// parseRootARN reads arn:<partition>:organizations::<management account>:root/<org id>/<root id>
// (^arn:[a-z-]+:organizations::([0-9]{12}):root/(o-[a-z0-9]+)/(r-[a-z0-9]+)$, parsed without a
// regexp compiled at start).
func parseRootARN(arn string) (management, orgID, rootID string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", "", "", false
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !ok || !onlyOf(partition, "abcdefghijklmnopqrstuvwxyz-") {
		return "", "", "", false
	}
	rest, ok = strings.CutPrefix(rest, "organizations::")
	if !ok {
		return "", "", "", false
	}
	management, rest, ok = strings.Cut(rest, ":root/")
	if !ok || !org.IsAccountID(management) {
		return "", "", "", false
	}
	orgID, rootID, ok = strings.Cut(rest, "/")
	if !ok || !prefixedID(orgID, "o-") || !prefixedID(rootID, "r-") {
		return "", "", "", false
	}
	return management, orgID, rootID, true
}

// prefixedID reports whether s is prefix followed by one or more of [a-z0-9].
func prefixedID(s, prefix string) bool {
	id, ok := strings.CutPrefix(s, prefix)
	return ok && onlyOf(id, "abcdefghijklmnopqrstuvwxyz0123456789")
}

// onlyOf reports whether s is not empty and made only of bytes in set.
func onlyOf(s, set string) bool {
	for i := range len(s) {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return s != ""
}

// isCode reports whether err is an AWS API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(codes, ae.ErrorCode())
}

// notFound wraps an AWS "no such thing" error so that it is also org.ErrNotFound.
func notFound(what string, err error) error {
	return fmt.Errorf("%s: %w (%w)", what, org.ErrNotFound, err)
}

// Organization implements org.Facts with one ListRoots call. Tags stays nil: read the root's
// tags with Tags(RootID).
func (v *View) Organization() (org.Organization, error) {
	r, err := v.organization()
	return cloneOrganization(r.o), err
}

// rootInfo is what ListRoots tells: the organization and the policy types enabled at the root.
type rootInfo struct {
	o     org.Organization
	types []types.PolicyType
}

func (v *View) organization() (rootInfo, error) {
	if x, ok := v.f.get(keyOrganization); ok {
		return x.(rootInfo), nil
	}
	var roots []types.Root
	for p := organizations.NewListRootsPaginator(v.f.clients.Organizations, &organizations.ListRootsInput{}); p.HasMorePages(); {
		out, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListRoots", err)
		if err != nil {
			if isCode(err, "AWSOrganizationsNotInUseException") {
				return rootInfo{}, notFound("organization", err)
			}
			return rootInfo{}, fmt.Errorf("list roots: %w", err)
		}
		roots = append(roots, out.Roots...)
	}
	if len(roots) == 0 {
		return rootInfo{}, fmt.Errorf("list roots: %w: the organization has no root", org.ErrNotFound)
	}
	r := roots[0]
	enabled := false
	var enabledTypes []types.PolicyType
	for _, pt := range r.PolicyTypes {
		if pt.Status != types.PolicyTypeStatusEnabled {
			continue
		}
		enabledTypes = append(enabledTypes, pt.Type)
		if pt.Type == types.PolicyTypeServiceControlPolicy {
			enabled = true
		}
	}
	o := org.Organization{RootID: aws.ToString(r.Id), SCPEnabled: &enabled}
	if mgmt, orgID, rootID, ok := parseRootARN(aws.ToString(r.Arn)); ok && rootID == o.RootID {
		o.ManagementAccountID, o.ID = mgmt, orgID
	} else {
		out, err := v.f.clients.Organizations.DescribeOrganization(v.ctx, &organizations.DescribeOrganizationInput{})
		v.count(svcOrganizations, "DescribeOrganization", err)
		if err != nil {
			return rootInfo{}, fmt.Errorf("describe organization: %w", err)
		}
		o.ManagementAccountID, o.ID = aws.ToString(out.Organization.MasterAccountId), aws.ToString(out.Organization.Id)
	}
	info := rootInfo{o: o, types: enabledTypes}
	v.f.put(keyOrganization, info)
	return info, nil
}

// Account implements org.Facts with one DescribeAccount call: id, name, email and parent. Its
// tags come from Tags and its root credential state from RootCredentials (Root and Tags stay nil).
func (v *View) Account(id string) (org.Account, error) {
	a, _, err := v.account(id)
	if err == nil {
		a = v.withOwner(a)
	}
	return a, err
}

// account returns the account and its chain of parents.
func (v *View) account(id string) (org.Account, []string, error) {
	if !org.IsAccountID(id) {
		return org.Account{}, nil, fmt.Errorf("account %q: %w", id, org.ErrNotFound)
	}
	if x, ok := v.f.get(keyAccount(id)); ok {
		if chain, ok := v.f.get(keyParents(id)); ok {
			return x.(org.Account), slices.Clone(chain.([]string)), nil
		}
	}
	out, err := v.f.clients.Organizations.DescribeAccount(v.ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	v.count(svcOrganizations, "DescribeAccount", err)
	if err != nil {
		if isCode(err, "AccountNotFoundException") {
			return org.Account{}, nil, notFound("account "+id, err)
		}
		return org.Account{}, nil, fmt.Errorf("describe account %s: %w", id, err)
	}
	a := org.Account{ID: id, Name: aws.ToString(out.Account.Name)}
	if e := aws.ToString(out.Account.Email); e != "" {
		a.Email = &e
	}
	chain, ok := chainFromPaths(id, out.Account.Paths)
	if ok {
		v.f.recordChain(id, chain)
	} else {
		if chain, err = v.walkUp(id, 0); err != nil {
			return org.Account{}, nil, err
		}
	}
	a.ParentID = chain[0]
	v.f.put(keyAccount(id), a)
	return a, chain, nil
}

// chainFromPaths reads the chain of parents (nearest first, ending with the root) from an
// entity path "o-.../r-.../ou-.../<id>/". ok is false when there is not exactly one well-formed
// path.
func chainFromPaths(id string, paths []string) ([]string, bool) {
	if len(paths) != 1 {
		return nil, false
	}
	parts := strings.Split(strings.Trim(paths[0], "/"), "/")
	if n := len(parts); n > 0 && parts[n-1] == id {
		parts = parts[:n-1]
	}
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "o-") || org.TargetKind(parts[1]) != "root" {
		return nil, false
	}
	for _, p := range parts[2:] {
		if org.TargetKind(p) != "ou" {
			return nil, false
		}
	}
	chain := slices.Clone(parts[1:])
	slices.Reverse(chain)
	return chain, true
}

// recordChain caches the chain of parents of id and, from it, of every OU on it.
func (f *Facts) recordChain(id string, chain []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putLocked(keyParents(id), slices.Clone(chain))
	for i, node := range chain {
		if org.TargetKind(node) == "ou" {
			f.putLocked(keyParents(node), slices.Clone(chain[i+1:]))
		}
	}
}

// Parents implements org.Facts. An account's chain comes from its DescribeAccount; an OU's from
// ListParents, one call per level not yet known. The root has no parents.
func (v *View) Parents(id string) ([]string, error) {
	if x, ok := v.f.get(keyParents(id)); ok {
		return slices.Clone(x.([]string)), nil
	}
	switch org.TargetKind(id) {
	case "root":
		if x, ok := v.f.get(keyOrganization); ok && x.(rootInfo).o.RootID != id {
			return nil, fmt.Errorf("parents of %s: %w", id, org.ErrNotFound)
		}
		return []string{}, nil
	case "account":
		_, chain, err := v.account(id)
		return chain, err
	case "ou":
		return v.ouParents(id)
	}
	return nil, fmt.Errorf("parents of %q: %w", id, org.ErrNotFound)
}

// ouParents reads an OU's chain of parents from its path (one DescribeOrganizationalUnit), else
// walks up with ListParents.
func (v *View) ouParents(id string) ([]string, error) {
	out, err := v.f.clients.Organizations.DescribeOrganizationalUnit(v.ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
	v.count(svcOrganizations, "DescribeOrganizationalUnit", err)
	if err != nil {
		if isCode(err, "OrganizationalUnitNotFoundException") {
			return nil, notFound("parents of "+id, err)
		}
		return nil, fmt.Errorf("describe OU %s: %w", id, err)
	}
	if out.OrganizationalUnit != nil && out.OrganizationalUnit.Path != nil {
		if chain, ok := chainFromPaths(id, []string{*out.OrganizationalUnit.Path}); ok {
			v.f.recordChain(id, chain)
			return chain, nil
		}
	}
	return v.walkUp(id, 0)
}

// walkUp reads the chain of parents of id with ListParents, reusing what is cached above.
func (v *View) walkUp(id string, depth int) ([]string, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("parents of %s: deeper than %d levels", id, maxDepth)
	}
	var parents []types.Parent
	for p := organizations.NewListParentsPaginator(v.f.clients.Organizations, &organizations.ListParentsInput{ChildId: aws.String(id)}); p.HasMorePages(); {
		out, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListParents", err)
		if err != nil {
			if isCode(err, "ChildNotFoundException") {
				return nil, notFound("parents of "+id, err)
			}
			return nil, fmt.Errorf("list parents of %s: %w", id, err)
		}
		parents = append(parents, out.Parents...)
	}
	if len(parents) != 1 {
		return nil, fmt.Errorf("list parents of %s: %d parents, want 1", id, len(parents))
	}
	parent := aws.ToString(parents[0].Id)
	chain := []string{parent}
	if parents[0].Type != types.ParentTypeRoot {
		var up []string
		if x, ok := v.f.get(keyParents(parent)); ok {
			up = x.([]string)
		} else {
			var err error
			if up, err = v.walkUp(parent, depth+1); err != nil {
				return nil, err
			}
		}
		chain = append(chain, up...)
	}
	v.f.put(keyParents(id), slices.Clone(chain))
	return chain, nil
}

// PoliciesFor implements org.Facts with one ListPoliciesForTarget (SCPs) per target. The
// summaries it returns record each policy's name and type.
func (v *View) PoliciesFor(targetID string) ([]string, error) {
	if org.TargetKind(targetID) == "" {
		return nil, fmt.Errorf("policies of %q: %w", targetID, org.ErrNotFound)
	}
	if x, ok := v.f.get(keyAttached(targetID)); ok {
		return slices.Clone(x.([]string)), nil
	}
	ids := []string{}
	in := &organizations.ListPoliciesForTargetInput{TargetId: aws.String(targetID), Filter: types.PolicyTypeServiceControlPolicy}
	for p := organizations.NewListPoliciesForTargetPaginator(v.f.clients.Organizations, in); p.HasMorePages(); {
		out, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListPoliciesForTarget", err)
		if err != nil {
			if isCode(err, "TargetNotFoundException") {
				return nil, notFound("policies of "+targetID, err)
			}
			return nil, fmt.Errorf("list policies for %s: %w", targetID, err)
		}
		for _, s := range out.Policies {
			ids = append(ids, aws.ToString(s.Id))
			v.f.recordSummary(s)
		}
	}
	v.f.put(keyAttached(targetID), slices.Clone(ids))
	return ids, nil
}

// Tags implements org.Facts with ListTagsForResource; an untagged resource has an empty map.
func (v *View) Tags(id string) (map[string]string, error) {
	if org.TargetKind(id) == "" && !strings.HasPrefix(id, "p-") {
		return nil, fmt.Errorf("tags of %q: %w", id, org.ErrNotFound)
	}
	if x, ok := v.f.get(keyTags(id)); ok {
		return maps.Clone(x.(map[string]string)), nil
	}
	tags := map[string]string{}
	for p := organizations.NewListTagsForResourcePaginator(v.f.clients.Organizations, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)}); p.HasMorePages(); {
		out, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListTagsForResource", err)
		if err != nil {
			if isCode(err, "TargetNotFoundException") {
				return nil, notFound("tags of "+id, err)
			}
			return nil, fmt.Errorf("list tags of %s: %w", id, err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	v.f.put(keyTags(id), maps.Clone(tags))
	return tags, nil
}

// tree is the organization's structure as a walk from the root finds it.
type tree struct {
	ous     []org.OU          // in walk order, tags not read
	parents map[string]string // account -> parent
}

// walk reads the tree top down: ListOrganizationalUnitsForParent and ListChildren (accounts) for
// the root and each OU. It records every node's chain of parents.
func (v *View) walk() (tree, error) {
	o, err := v.Organization()
	if err != nil {
		return tree{}, err
	}
	t := tree{parents: map[string]string{}}
	chains := map[string][]string{o.RootID: {}}
	level := []string{o.RootID}
	for depth := 0; len(level) > 0; depth++ {
		if depth > maxDepth {
			return tree{}, fmt.Errorf("walk the organization: deeper than %d levels", maxDepth)
		}
		var next []string
		for _, parent := range level {
			in := &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)}
			for p := organizations.NewListOrganizationalUnitsForParentPaginator(v.f.clients.Organizations, in); p.HasMorePages(); {
				out, err := p.NextPage(v.ctx)
				v.count(svcOrganizations, "ListOrganizationalUnitsForParent", err)
				if err != nil {
					return tree{}, fmt.Errorf("list OUs under %s: %w", parent, err)
				}
				for _, ou := range out.OrganizationalUnits {
					id := aws.ToString(ou.Id)
					t.ous = append(t.ous, org.OU{ID: id, Name: aws.ToString(ou.Name), ParentID: parent})
					chains[id] = append([]string{parent}, chains[parent]...)
					next = append(next, id)
				}
			}
			cin := &organizations.ListChildrenInput{ParentId: aws.String(parent), ChildType: types.ChildTypeAccount}
			for p := organizations.NewListChildrenPaginator(v.f.clients.Organizations, cin); p.HasMorePages(); {
				out, err := p.NextPage(v.ctx)
				v.count(svcOrganizations, "ListChildren", err)
				if err != nil {
					return tree{}, fmt.Errorf("list accounts under %s: %w", parent, err)
				}
				for _, c := range out.Children {
					id := aws.ToString(c.Id)
					t.parents[id] = parent
					chains[id] = append([]string{parent}, chains[parent]...)
				}
			}
		}
		level = next
	}
	v.f.mu.Lock()
	for id, chain := range chains {
		if id != o.RootID {
			v.f.putLocked(keyParents(id), chain)
		}
	}
	v.f.mu.Unlock()
	return t, nil
}

// Accounts implements org.Facts for the audit: every account with its parent, tags and root
// credential state (nil when it cannot be read; see Config.Logger), in id order.
func (v *View) Accounts() ([]org.Account, error) {
	t, err := v.walk()
	if err != nil {
		return nil, err
	}
	return v.accounts(t)
}

func (v *View) accounts(t tree) ([]org.Account, error) {
	var out []org.Account
	for p := organizations.NewListAccountsPaginator(v.f.clients.Organizations, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListAccounts", err)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for _, a := range page.Accounts {
			acc := org.Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), ParentID: t.parents[aws.ToString(a.Id)]}
			if e := aws.ToString(a.Email); e != "" {
				acc.Email = &e
			}
			out = append(out, acc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	err := v.f.each(len(out), func(i int) error {
		a := &out[i]
		if a.ParentID == "" { // joined after the walk
			chain, err := v.Parents(a.ID)
			if err != nil {
				return err
			}
			a.ParentID = chain[0]
		}
		v.f.put(keyAccount(a.ID), org.Account{ID: a.ID, Name: a.Name, Email: a.Email, ParentID: a.ParentID})
		tags, err := v.Tags(a.ID)
		if err != nil {
			return err
		}
		a.Tags = tags
		root, err := v.RootCredentials(a.ID)
		if err != nil {
			if l := v.f.cfg.Logger; l != nil {
				l.Warn("root credential state unreadable", "accountId", a.ID, "error", err.Error())
			}
			root = nil
		}
		a.Root = root
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	return out, nil
}

// Policies implements org.Facts for the audit: every SCP with its content, targets and tags, in
// id order. Each content read is recorded (see Policy).
func (v *View) Policies() ([]org.Policy, error) {
	return v.policies(types.PolicyTypeServiceControlPolicy)
}

// policies reads every policy of one type with its content, targets and tags.
func (v *View) policies(typ types.PolicyType) ([]org.Policy, error) {
	var out []org.Policy
	in := &organizations.ListPoliciesInput{Filter: typ}
	for p := organizations.NewListPoliciesPaginator(v.f.clients.Organizations, in); p.HasMorePages(); {
		page, err := p.NextPage(v.ctx)
		v.count(svcOrganizations, "ListPolicies", err)
		if err != nil {
			return nil, fmt.Errorf("list %s policies: %w", typ, err)
		}
		for _, s := range page.Policies {
			v.f.recordSummary(s)
			out = append(out, org.Policy{ID: aws.ToString(s.Id)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	err := v.f.each(len(out), func(i int) error {
		id := out[i].ID
		p, err := v.describePolicy(id)
		if err != nil {
			return err
		}
		v.f.recordFull(p)
		v.persist(p, false)
		targets := []string{}
		for pg := organizations.NewListTargetsForPolicyPaginator(v.f.clients.Organizations, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id)}); pg.HasMorePages(); {
			page, err := pg.NextPage(v.ctx)
			v.count(svcOrganizations, "ListTargetsForPolicy", err)
			if err != nil {
				return fmt.Errorf("list targets of policy %s: %w", id, err)
			}
			for _, t := range page.Targets {
				targets = append(targets, aws.ToString(t.TargetId))
			}
		}
		sort.Strings(targets)
		p.Targets = targets
		if p.Tags, err = v.Tags(id); err != nil {
			return err
		}
		out[i] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	return out, nil
}

// each runs fn for 0..n-1 with at most Config.Concurrency at a time and joins the errors.
func (f *Facts) each(n int, fn func(i int) error) error {
	sem := make(chan struct{}, f.cfg.Concurrency)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func cloneOrganization(o org.Organization) org.Organization {
	if o.SCPEnabled != nil {
		v := *o.SCPEnabled
		o.SCPEnabled = &v
	}
	o.Tags = maps.Clone(o.Tags)
	return o
}
