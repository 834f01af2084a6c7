package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
)

// revertOn: scp-guard reverts protection changes with the revert role.
var revertOn = variant{"revert-on", map[string]any{CtxRootCredentialsMode: ModeAuditRole, CtxRevert: RevertOn}}

func TestRevertRole(t *testing.T) {
	if !slices.Equal(revertActions, finding.RevertActions) {
		t.Fatalf("the revert role's actions %v are not the revert plan's %v", revertActions, finding.RevertActions)
	}
	// Off (the default): no role anywhere, scp-guard cannot assume one and is not told to revert.
	off := synth(t, auditRole)
	for name, tpl := range off.templates {
		for _, r := range resourcesOf(tpl, "AWS::IAM::Role") {
			if r.Props["RoleName"] == RevertRoleName {
				t.Errorf("revert off: stack %s has the revert role", name)
			}
		}
	}
	offFn := one(t, off.central(), "AWS::IAM::Role", "RoleName", FunctionRoleName(function.SCPGuard)).ID
	if g := grants(off.central(), offFn); g["sts:AssumeRole"] != nil {
		t.Errorf("revert off: scp-guard may assume %v", g["sts:AssumeRole"])
	}

	s := synth(t, revertOn)
	cfg := s.cfg
	mgmt := s.management(GlobalRegion)
	role := one(t, mgmt, "AWS::IAM::Role", "RoleName", RevertRoleName)
	// Trusted by scp-guard's execution role only.
	trust := statements(role.Props["AssumeRolePolicyDocument"])
	if len(trust) != 1 || !slices.Equal(strs(get(trust[0], "Condition", "ArnEquals", "aws:PrincipalArn")), []string{cfg.FunctionRoleArn(function.SCPGuard)}) {
		t.Errorf("revert role trust %v: want scp-guard's role only", trust)
	}
	// Exactly the plan's actions, on this organization's resources; policy calls on SCPs only.
	var actions []string
	orgPrefix := fmt.Sprintf("arn:aws:organizations::%s:", cfg.ManagementAccount)
	for _, doc := range role.Props["Policies"].([]any) {
		for _, st := range statements(get(doc, "PolicyDocument")) {
			for _, a := range strs(st["Action"]) {
				actions = append(actions, a)
				if a != "organizations:MoveAccount" && get(st, "Condition", "StringEquals", "organizations:PolicyType") != "SERVICE_CONTROL_POLICY" {
					t.Errorf("%s is not limited to SCPs: %v", a, st["Condition"])
				}
			}
			for _, r := range strs(st["Resource"]) {
				if !strings.HasPrefix(r, orgPrefix) || !strings.Contains(r, "/"+cfg.OrganizationID+"/") {
					t.Errorf("resource %s is not scoped to organization %s", r, cfg.OrganizationID)
				}
			}
		}
	}
	slices.Sort(actions)
	want := slices.Clone(finding.RevertActions)
	slices.Sort(want)
	if !slices.Equal(actions, want) {
		t.Errorf("revert role actions %v, want %v", actions, want)
	}
	// scp-guard may assume it, and is told the mode and the role.
	tpl := s.central()
	fnRole := one(t, tpl, "AWS::IAM::Role", "RoleName", FunctionRoleName(function.SCPGuard)).ID
	if g := grants(tpl, fnRole)["sts:AssumeRole"]; !slices.Equal(g, []string{cfg.RevertRoleArn()}) && !slices.Contains(g, cfg.RevertRoleArn()) {
		t.Errorf("scp-guard may assume %v, want %s", g, cfg.RevertRoleArn())
	}
	fns := functionIDs(t, tpl)
	vars, _ := get(resourceByID(t, tpl, fns[function.SCPGuard]).Props, "Environment", "Variables").(map[string]any)
	if render(vars["ROOTGUARD_REVERT"]) != RevertOn || render(vars["ROOTGUARD_REVERT_ROLE"]) != cfg.RevertRoleArn() {
		t.Errorf("scp-guard environment %v", vars)
	}
	for _, fn := range function.Names() {
		if fn == function.SCPGuard {
			continue
		}
		v, _ := get(resourceByID(t, tpl, fns[fn]).Props, "Environment", "Variables").(map[string]any)
		if _, ok := v["ROOTGUARD_REVERT"]; ok {
			t.Errorf("%s is told to revert", fn)
		}
	}
}

func TestRevertContext(t *testing.T) {
	ctx := exampleContext(t)
	ctx[CtxRevert] = "yes"
	_, err := ConfigFromContext(func(k string) any { return ctx[k] })
	if err == nil || !strings.Contains(err.Error(), CtxRevert) {
		t.Errorf("revert=yes: %v, want an error naming %q", err, CtxRevert)
	}
}
