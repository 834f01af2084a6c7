package infra

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// policyStatement is one IAM statement found in a template, and where.
type policyStatement struct {
	Stack, Resource, Type string
	Statement             map[string]any
}

// allPolicyStatements walks every resource property of a template and returns every policy
// statement in it: role trust and inline policies, managed and inline policy resources, key
// policies, queue, topic, bus and Organizations resource policies, whatever holds a "Statement".
func allPolicyStatements(stack string, tpl map[string]any) []policyStatement {
	var out []policyStatement
	res, _ := tpl["Resources"].(map[string]any)
	for _, id := range sortedKeys(res) {
		r, _ := res[id].(map[string]any)
		typ, _ := r["Type"].(string)
		var walk func(v any)
		walk = func(v any) {
			switch t := v.(type) {
			case map[string]any:
				if st, ok := t["Statement"]; ok {
					for _, s := range statements(map[string]any{"Statement": st}) {
						out = append(out, policyStatement{Stack: stack, Resource: id, Type: typ, Statement: s})
					}
					return
				}
				for _, k := range sortedKeys(t) {
					walk(t[k])
				}
			case []any:
				for _, e := range t {
					walk(e)
				}
			}
		}
		walk(r["Properties"])
	}
	return out
}

// wildcardAllowance is one explained use of a wildcard resource in an Allow statement.
type wildcardAllowance struct {
	// Resource matches the rendered resource; Actions must contain every action of the statement;
	// Types limits the resource types (empty: any); Condition, when set, must hold.
	Resource  *regexp.Regexp
	Actions   []string
	Types     []string
	Condition func(cfg Config, st map[string]any) error
	Reason    string
}

var kmsActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
	"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
	"kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
	"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
	"kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
	"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo",
	"kms:GenerateDataKeyWithoutPlaintext",
}

var orgReads = []string{
	"organizations:DescribeOrganization", "organizations:DescribeAccount", "organizations:ListParents",
	"organizations:ListRoots", "organizations:ListPoliciesForTarget", "organizations:DescribePolicy",
	"organizations:ListTagsForResource", "organizations:ListAccounts", "organizations:ListPolicies",
	"organizations:ListTargetsForPolicy", "organizations:ListOrganizationalUnitsForParent", "organizations:ListChildren",
	"organizations:DescribeOrganizationalUnit",
}

// wildcardAllowList is every wildcard resource rootguard may grant, each with its reason. A new
// wildcard fails TestIAMStatements until it is explained here.
func wildcardAllowList(cfg Config) []wildcardAllowance {
	q := regexp.QuoteMeta
	org := fmt.Sprintf(`^arn:aws:organizations::%s:(account|ou|root|policy)/%s/\*$`, q(cfg.ManagementAccount), q(cfg.OrganizationID))
	return []wildcardAllowance{
		{Resource: regexp.MustCompile(`^\*$`), Types: []string{"AWS::KMS::Key"}, Actions: kmsActions,
			Reason: "in a key policy, * is the key itself"},
		{Resource: regexp.MustCompile(`^\*$`), Types: []string{"AWS::IAM::Role"},
			Actions: []string{"organizations:DescribeOrganization", "organizations:ListRoots", "organizations:ListAccounts", "organizations:ListPolicies"},
			Reason:  "these Organizations calls have no resource type: they are authorized on * only"},
		{Resource: regexp.MustCompile(`^\*$`), Types: []string{"AWS::IAM::Role"}, Actions: []string{"iam:GetAccountSummary"},
			Reason: "GetAccountSummary has no resource type; it is the audit role's read of root credential state"},
		{Resource: regexp.MustCompile(`^\*$`), Types: []string{"AWS::Organizations::ResourcePolicy"}, Actions: orgReads,
			Reason: "an Organizations delegation policy applies to the organization itself"},
		{Resource: regexp.MustCompile(org), Types: []string{"AWS::IAM::Role"}, Actions: orgReads,
			Reason: "accounts, OUs, the root and SCPs of this organization only, known at run time"},
		{Resource: regexp.MustCompile(`^arn:aws:organizations::aws:policy/\*$`), Types: []string{"AWS::IAM::Role"}, Actions: orgReads,
			Reason: "AWS-managed SCPs (FullAWSAccess) read beside the protection SCP"},
		{Resource: regexp.MustCompile(`^arn:aws:iam::\*:role/` + q(cfg.AuditRoleName) + `$`), Types: []string{"AWS::IAM::Role"}, Actions: []string{"sts:AssumeRole"},
			Condition: func(cfg Config, st map[string]any) error {
				if get(st, "Condition", "StringEquals", "aws:ResourceOrgID") != cfg.OrganizationID {
					return fmt.Errorf("needs aws:ResourceOrgID = %s", cfg.OrganizationID)
				}
				return nil
			},
			Reason: "the audit role in any account of this organization (aws:ResourceOrgID)"},
		{Resource: regexp.MustCompile(`^arn:aws:iam::\*:root$`), Types: []string{"AWS::IAM::Role"}, Actions: []string{"sts:AssumeRoot"},
			Condition: func(cfg Config, st map[string]any) error {
				if get(st, "Condition", "StringEquals", "sts:TaskPolicyArn") != AuditTaskPolicyArn {
					return fmt.Errorf("needs sts:TaskPolicyArn = %s", AuditTaskPolicyArn)
				}
				return nil
			},
			Reason: "AssumeRoot on member accounts, pinned to the read-only audit task policy"},
		{Resource: regexp.MustCompile(`^\$\{ReportBucket[0-9A-F]*\.Arn\}/` + q(ReportPrefix) + `\*$`), Types: []string{"AWS::IAM::Role"},
			Actions: []string{"s3:PutObject", "s3:GetObject"},
			Reason:  "the audit's daily reports, dated keys under the reports prefix of the reports bucket"},
		{Resource: regexp.MustCompile(`^arn:aws:iam::(\d{12}|\$\{AWS::AccountId\}):user/\*$`), Types: []string{"AWS::IAM::Role"},
			Actions: []string{"iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAccessKeys", "iam:ListSigningCertificates"},
			Reason:  "credential listings of users of the audit role's own account, read-only"},
		{Resource: regexp.MustCompile(`^arn:aws:events:\*:(\d{12}|\$\{AWS::AccountId\}):rule/rootguard-forward-\*$`), Types: []string{"AWS::IAM::Role"},
			Actions: ForwarderAuditActions,
			Reason:  "the forwarder audit: rootguard's own forwarding rules of the audit role's account, every region, read-only"},
		{Resource: regexp.MustCompile(`^\*$`), Types: []string{"AWS::IAM::Role"}, Actions: auditGuardUnscoped,
			Reason: "ListOrganizationsFeatures and DescribeTrails have no resource type; the audit reads the organization's features and trails"},
		{Resource: regexp.MustCompile(`^arn:aws:cloudtrail:\*:` + q(cfg.ManagementAccount) + `:trail/\*$`), Types: []string{"AWS::IAM::Role"}, Actions: auditGuardTrailActions,
			Reason: "the management account's trails in any region, status and selectors only"},
	}
}

// TestIAMStatements lists every IAM statement of every synthesized template (go test -v shows the
// listing) and fails on a wildcard action, on NotAction/NotResource in an Allow, on an anonymous
// Allow without a condition, and on a wildcard resource that the allow-list does not explain.
func TestIAMStatements(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			allow := wildcardAllowList(s.cfg)
			used := make([]bool, len(allow))
			var listing []string
			total := 0
			for _, stack := range sortedKeys(s.templates) {
				for _, ps := range allPolicyStatements(stack, s.templates[stack]) {
					total++
					st := ps.Statement
					effect, _ := st["Effect"].(string)
					actions, resources := strs(st["Action"]), strs(st["Resource"])
					where := fmt.Sprintf("%s/%s (%s)", ps.Stack, ps.Resource, ps.Type)
					listing = append(listing, fmt.Sprintf("%s %s %v on %v principal %s condition %s", where, effect, actions, resources, render(st["Principal"]), render(st["Condition"])))
					if effect == "Deny" {
						// Deny statements only ever refuse non-TLS access, old TLS, report objects not
						// encrypted with the stack's key, or are the guard SCP's (TestGuardSCP); wildcards
						// widen a deny.
						if get(st, "Condition", "Bool", "aws:SecureTransport") != "false" &&
							get(st, "Condition", "NumericLessThan", "s3:TlsVersion") == nil &&
							get(st, "Condition", "StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id") == nil &&
							ps.Type != "AWS::Organizations::Policy" {
							t.Errorf("%s: unexpected Deny %v", where, st)
						}
						continue
					}
					if st["NotAction"] != nil || st["NotResource"] != nil || st["NotPrincipal"] != nil {
						t.Errorf("%s: NotAction/NotResource/NotPrincipal in an Allow: %v", where, st)
					}
					for _, a := range actions {
						if strings.Contains(a, "*") || strings.Contains(a, "?") {
							t.Errorf("%s: wildcard action %q", where, a)
						}
					}
					if p := render(st["Principal"]); (p == "*" || render(get(st, "Principal", "AWS")) == "*") && st["Condition"] == nil {
						t.Errorf("%s: Allow to any principal without a condition", where)
					}
					for _, r := range resources {
						if !strings.Contains(r, "*") {
							continue
						}
						i := slices.IndexFunc(allow, func(a wildcardAllowance) bool {
							return a.Resource.MatchString(r) && (len(a.Types) == 0 || slices.Contains(a.Types, ps.Type)) &&
								!slices.ContainsFunc(actions, func(x string) bool { return !slices.Contains(a.Actions, x) })
						})
						if i < 0 {
							t.Errorf("%s: wildcard resource %q for %v is not in the allow-list", where, r, actions)
							continue
						}
						if c := allow[i].Condition; c != nil {
							if err := c(s.cfg, st); err != nil {
								t.Errorf("%s: wildcard resource %q: %v", where, r, err)
							}
						}
						used[i] = true
					}
				}
			}
			sort.Strings(listing)
			t.Logf("%d IAM statements:\n%s", total, strings.Join(listing, "\n"))
			if total < 20 {
				t.Errorf("only %d statements found: the walk misses policies", total)
			}
			for i, u := range used {
				if !u && allowanceApplies(s.cfg, allow[i]) {
					t.Errorf("allow-list entry %q (%s) is not used: remove it", allow[i].Resource, allow[i].Reason)
				}
			}
		})
	}
}

// allowanceApplies: entries that only one mode uses are not stale in the other.
func allowanceApplies(cfg Config, a wildcardAllowance) bool {
	switch {
	case slices.Contains(a.Actions, "sts:AssumeRoot"):
		return cfg.RootCredentialsMode == ModeAssumeRoot
	case slices.Contains(a.Actions, "sts:AssumeRole"):
		return cfg.RootCredentialsMode == ModeAuditRole
	}
	return true
}
