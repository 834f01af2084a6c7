package awsfake

import "github.com/rootguard/rootguard/internal/org"

// Sample returns a small organization for tests: a management account, nested OUs, accounts with
// every kind of root credential state (one unreadable), an AWS managed SCP attached everywhere,
// the protection SCP at the root and a customer SCP on an OU. Every list in it is longer than the
// default page size, so pagination is exercised.
func Sample() org.SnapshotDoc {
	t, f := true, false
	b := func(v bool) *bool { return &v }
	email := func(s string) *string { return &s }
	content := func(s string) *string { return &s }
	creds := func(mfa, pw, keys, certs bool) *org.RootCredentials {
		return &org.RootCredentials{MFAEnabled: b(mfa), PasswordPresent: b(pw), AccessKeysPresent: b(keys), SigningCertificatesPresent: b(certs)}
	}
	const (
		root    = "r-ab12"
		prod    = "ou-ab12-prod0001"
		web     = "ou-ab12-web00001"
		sandbox = "ou-ab12-sand0001"
	)
	return org.SnapshotDoc{
		Organization: org.Organization{
			ID: "o-exampleorg1", ManagementAccountID: "111111111111", RootID: root, SCPEnabled: &t,
			Tags: map[string]string{"owner": "platform", "cost-centre": "42", "tier": "gold"},
		},
		OrganizationalUnits: []org.OU{
			{ID: prod, Name: "Production", ParentID: root, Tags: map[string]string{"env": "prod"}},
			{ID: web, Name: "Web", ParentID: prod},
			{ID: sandbox, Name: "Sandbox", ParentID: root, Tags: map[string]string{"env": "sandbox"}},
		},
		Accounts: []org.Account{
			{ID: "111111111111", Name: "management", Email: email("aws-mgmt@stax.example"), ParentID: root, Root: creds(true, true, false, false)},
			{ID: "222222222222", Name: "web", Email: email("web@stax.example"), ParentID: web, Root: creds(false, false, false, false), Tags: map[string]string{"app": "web"}},
			{ID: "333333333333", Name: "sandbox", Email: email("dev@customer.example"), ParentID: sandbox, Root: creds(false, true, false, false)},
			{ID: "444444444444", Name: "new", Email: email("new@stax.example"), ParentID: prod, Root: nil},
			{ID: "555555555555", Name: "legacy", Email: nil, ParentID: root, Root: &org.RootCredentials{MFAEnabled: &f, PasswordPresent: &t, AccessKeysPresent: &t, SigningCertificatesPresent: nil}},
		},
		Policies: []org.Policy{
			{
				ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: org.PolicyTypeSCP, AWSManaged: true,
				Content: content(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
				Targets: []string{root, prod, web, sandbox, "111111111111", "222222222222", "333333333333", "444444444444", "555555555555"},
			},
			{
				ID: "p-staxprot1", Name: "Stax-Protection", Type: org.PolicyTypeSCP,
				Content: content(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`),
				Targets: []string{root},
				Tags:    map[string]string{"owner": "stax"},
			},
			{
				ID: "p-custdeny1", Name: "Customer-Deny-Regions", Type: org.PolicyTypeSCP,
				Content: content(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}`),
				Targets: []string{sandbox, "333333333333"},
			},
		},
	}
}
