package infra

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/aws/forwarder"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestGuardSCP: the management stack in us-east-1 (and no other stack) creates the guard SCP,
// attached to nothing, under the SCP size limit, denying the forwarders' rule changes, IAM
// writes on rootguard's roles and CloudFormation changes to the member stack instances to all
// but the StackSet execution role; the resources it names are the ones rootguard deploys.
func TestGuardSCP(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			found := 0
			for name, tpl := range s.templates {
				for _, p := range resourcesOf(tpl, "AWS::Organizations::Policy") {
					found++
					if name != ManagementStackName(GlobalRegion) {
						t.Errorf("guard SCP in %s, want %s", name, ManagementStackName(GlobalRegion))
					}
					if p.Props["Name"] != GuardSCPName || p.Props["Type"] != "SERVICE_CONTROL_POLICY" || p.Props["TargetIds"] != nil {
						t.Errorf("policy %v %v targets %v: want %s, an SCP attached to nothing", p.Props["Name"], p.Props["Type"], p.Props["TargetIds"], GuardSCPName)
					}
					b, _ := json.Marshal(p.Props["Content"])
					content := string(b)
					if len(content) == 0 || len(content) > MaxSCPSize {
						t.Errorf("guard SCP is %d characters, want 1 to %d", len(content), MaxSCPSize)
					}
					t.Logf("guard SCP: %d of %d characters", len(content), MaxSCPSize)
					checkGuardContent(t, s, content)
				}
			}
			if found != 1 {
				t.Errorf("%d guard SCPs, want 1", found)
			}
		})
	}
}

func checkGuardContent(t *testing.T, s *synthesized, content string) {
	t.Helper()
	var doc struct {
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  any
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		t.Fatalf("guard SCP content: %v", err)
	}
	denied := map[string][]string{}
	deployerRoles := false
	for _, st := range doc.Statement {
		if st.Sid == "RootguardDeployerRoles" {
			// Nobody but the StackSets service-linked role makes a role with the exempt name.
			deployerRoles = st.Effect == "Deny" && slices.Equal(st.Action, GuardDeployerRoleActions) &&
				slices.Equal(strs(st.Resource), []string{StackSetExecutionRole}) &&
				st.Condition["ArnNotLike"]["aws:PrincipalArn"] == StackSetsServiceRole
			continue
		}
		if st.Effect != "Deny" || st.Condition["ArnNotLike"]["aws:PrincipalArn"] != StackSetExecutionRole {
			t.Errorf("statement %+v: want a Deny for all but %s", st, StackSetExecutionRole)
		}
		for _, a := range st.Action {
			denied[a] = append(denied[a], strs(st.Resource)...)
		}
	}
	if !deployerRoles {
		t.Errorf("no Deny of %v on %s for all but %s", GuardDeployerRoleActions, StackSetExecutionRole, StackSetsServiceRole)
	}
	for _, a := range GuardRuleActions {
		if !slices.Contains(denied[a], "arn:aws:events:*:*:rule/rootguard-forward-*") {
			t.Errorf("%s not denied on the forwarding rules: %v", a, denied[a])
		}
	}
	for _, a := range []string{"iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} {
		want := []string{"arn:aws:iam::*:role/rootguard-forward-*"}
		if s.cfg.RootCredentialsMode == ModeAuditRole {
			want = append(want, "arn:aws:iam::*:role/"+s.cfg.AuditRoleName)
		}
		if !slices.Equal(denied[a], want) {
			t.Errorf("%s denied on %v, want %v", a, denied[a], want)
		}
	}
	for _, a := range []string{"cloudformation:DeleteStack", "cloudformation:UpdateStack", "cloudformation:ExecuteChangeSet"} {
		if !slices.Equal(denied[a], []string{"arn:aws:cloudformation:*:*:stack/StackSet-rootguard-member-forwarder-*/*"}) {
			t.Errorf("%s denied on %v, want the member stack instances", a, denied[a])
		}
	}
	// The names it guards are the names deployed in a member account.
	member := s.member()
	for _, r := range resourcesOf(member, "AWS::Events::Rule") {
		if name, _ := r.Props["Name"].(string); len(name) < len(ForwardRulePrefix) || name[:len(ForwardRulePrefix)] != ForwardRulePrefix {
			t.Errorf("member rule %s named %v, outside the guard SCP's rootguard-forward-*", r.ID, r.Props["Name"])
		}
	}
	for _, r := range resourcesOf(member, "AWS::IAM::Role") {
		if name := render(r.Props["RoleName"]); name != "rootguard-forward-${AWS::Region}" && name != s.cfg.AuditRoleName {
			t.Errorf("member role %s named %v, not guarded", r.ID, name)
		}
	}
}

// TestForwarderNamesAgree: the forwarding rules the audit describes are the ones deployed, and
// FORWARDER-TAMPERED recognises their names.
func TestForwarderNamesAgree(t *testing.T) {
	if ForwardRulePrefix != forwarder.RulePrefix {
		t.Errorf("infra names forwarding rules %s*, the audit reads %s*", ForwardRulePrefix, forwarder.RulePrefix)
	}
	for _, r := range ForwardedRoutes() {
		if ForwardRuleName(r.Name()) != forwarder.RuleName(r.Name()) || !strings.HasPrefix(ForwardRuleName(r.Name()), rule.NamePrefix) {
			t.Errorf("forwarding rule of %s: %s (audit %s)", r.Name(), ForwardRuleName(r.Name()), forwarder.RuleName(r.Name()))
		}
	}
}
