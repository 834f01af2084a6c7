package awsorg

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/aws/awsenv"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

func TestReverterAgainstTheFake(t *testing.T) {
	doc := awsfake.Sample()
	fake, err := awsfake.New(doc, awsfake.Options{RoleName: auditRole, RevertRoleName: "rootguard-revert"})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	cfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	mgmt, root := doc.Organization.ManagementAccountID, doc.Organization.RootID
	var scp *org.Policy
	for i := range doc.Policies {
		if p := &doc.Policies[i]; !p.AWSManaged && p.Type == org.PolicyTypeSCP && slices.Contains(p.Targets, root) {
			scp = p
		}
	}
	if scp == nil {
		t.Fatal("the fake's sample has no customer SCP at the root")
	}
	// Detach it (as someone did), then revert.
	if err := fake.Update(func(d *org.SnapshotDoc) {
		for i := range d.Policies {
			if d.Policies[i].ID == scp.ID {
				d.Policies[i].Targets = slices.DeleteFunc(d.Policies[i].Targets, func(s string) bool { return s == root })
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	r := NewReverter(cfg, "arn:aws:iam::"+mgmt+":role/rootguard-revert")
	attach := finding.RevertCall{Action: finding.ActionAttachPolicy, Parameters: map[string]string{"PolicyId": scp.ID, "TargetId": root}}
	if note, err := r.Do(t.Context(), attach); err != nil || note != "" {
		t.Fatalf("AttachPolicy: %q, %v", note, err)
	}
	// Again: already in place, which counts as done.
	if note, err := r.Do(t.Context(), attach); err != nil || note != "already attached" {
		t.Errorf("AttachPolicy again: %q, %v", note, err)
	}
	content := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	if _, err := r.Do(t.Context(), finding.RevertCall{Action: finding.ActionUpdatePolicy, Parameters: map[string]string{"PolicyId": scp.ID, "Content": content, "Name": "Stax-Protection"}}); err != nil {
		t.Fatalf("UpdatePolicy: %v", err)
	}
	if _, err := r.Do(t.Context(), finding.RevertCall{Action: finding.ActionEnablePolicyType, Parameters: map[string]string{"RootId": root, "PolicyType": org.PolicyTypeSCP}}); err != nil {
		t.Fatalf("EnablePolicyType on an enabled root: %v, want already enabled", err)
	}
	if _, err := r.Do(t.Context(), finding.RevertCall{Action: "organizations:DetachPolicy"}); err == nil {
		t.Error("a call outside the revert actions was made")
	}
	after := fake.Doc()
	for _, p := range after.Policies {
		if p.ID == scp.ID && (!slices.Contains(p.Targets, root) || p.ContentText() != content || p.Name != "Stax-Protection") {
			t.Errorf("policy after revert: %+v", p)
		}
	}
	w := fake.Writes()
	if len(w) != 2 || !w[0].Role || w[0].Account != mgmt {
		t.Errorf("writes %+v: want AttachPolicy and UpdatePolicy by a role session in %s", w, mgmt)
	}
	if fake.Calls(awsfake.STS, "AssumeRole") != 1 {
		t.Errorf("AssumeRole called %d times, want once (credentials cached)", fake.Calls(awsfake.STS, "AssumeRole"))
	}
	// The central account's own credentials may not write.
	direct := &Reverter{Orgs: testClients(fake, 1).Organizations}
	if _, err := direct.Do(t.Context(), attach); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("write without the revert role: %v, want AccessDenied", err)
	}
}
