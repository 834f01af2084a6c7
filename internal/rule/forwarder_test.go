package rule

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

func tamperEvent(t *testing.T, source, name string, params map[string]any, arn, issuer, errorCode string) *cloudtrail.Event {
	t.Helper()
	ui := map[string]any{"type": "AssumedRole", "arn": arn, "accountId": "333333333333"}
	if issuer != "" {
		ui["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": issuer}}
	}
	rec := map[string]any{"eventSource": source, "eventName": name, "eventID": "e-1", "eventTime": "2026-11-18T09:00:00Z",
		"awsRegion": "eu-west-1", "eventType": "AwsApiCall", "recipientAccountId": "333333333333", "userIdentity": ui, "requestParameters": params}
	if errorCode != "" {
		rec["errorCode"] = errorCode
	}
	b, _ := json.Marshal(rec)
	ev, err := cloudtrail.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestForwarderTampered(t *testing.T) {
	admin := "arn:aws:sts::333333333333:assumed-role/Admin/alice"
	adminRole := "arn:aws:iam::333333333333:role/Admin"
	tests := []struct {
		name              string
		source, event     string
		params            map[string]any
		arn, issuer, code string
		deployers         []string
		want              string // severity, "" for nothing
	}{
		{"forwarder disabled", "events.amazonaws.com", "DisableRule", map[string]any{"name": "rootguard-forward-root-activity"}, admin, adminRole, "", nil, "HIGH"},
		{"targets removed", "events.amazonaws.com", "RemoveTargets", map[string]any{"rule": "rootguard-forward-scp-guard"}, admin, adminRole, "", nil, "HIGH"},
		{"central rule by ARN", "events.amazonaws.com", "DeleteRule", map[string]any{"name": "arn:aws:events:eu-west-1:999988887777:rule/rootguard/RootGuard-Central-Route"}, admin, adminRole, "", nil, "HIGH"},
		{"failed: denied by the guard SCP", "events.amazonaws.com", "DeleteRule", map[string]any{"name": "rootguard-forward-onboarding"}, admin, adminRole, "AccessDenied", nil, "MEDIUM"},
		{"someone else's rule", "events.amazonaws.com", "DisableRule", map[string]any{"name": "acme-backup"}, admin, adminRole, "", nil, ""},
		{"a rule merely containing the word", "events.amazonaws.com", "DisableRule", map[string]any{"name": "acme-rootguard-copy"}, admin, adminRole, "", nil, ""},
		{"StackSet execution role", "events.amazonaws.com", "PutRule", map[string]any{"name": "rootguard-forward-root-activity"},
			"arn:aws:sts::333333333333:assumed-role/stacksets-exec-0123abcd/AWSCloudFormation", "arn:aws:iam::333333333333:role/stacksets-exec-0123abcd", "", nil, ""},
		{"CDK execution role", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", map[string]any{"functionName": "rootguard-notifier"},
			"arn:aws:sts::999988887777:assumed-role/cdk-hnb659fds-cfn-exec-role-999988887777-eu-west-1/x", "arn:aws:iam::999988887777:role/cdk-hnb659fds-cfn-exec-role-999988887777-eu-west-1", "", nil, ""},
		{"configured pipeline role replaces the defaults", "events.amazonaws.com", "PutRule", map[string]any{"name": "rootguard-forward-root-activity"},
			"arn:aws:sts::333333333333:assumed-role/stacksets-exec-0123abcd/AWSCloudFormation", "arn:aws:iam::333333333333:role/stacksets-exec-0123abcd", "", []string{"arn:aws:iam::111111111111:role/pipeline"}, "HIGH"},
		{"configured pipeline role", "cloudformation.amazonaws.com", "UpdateStack", map[string]any{"stackName": "RootGuard-Central"},
			"arn:aws:sts::111111111111:assumed-role/pipeline/run-7", "arn:aws:iam::111111111111:role/pipeline", "", []string{"arn:aws:iam::111111111111:role/pipeline"}, ""},
		{"stack instance deleted", "cloudformation.amazonaws.com", "DeleteStack", map[string]any{"stackName": "StackSet-rootguard-member-forwarder-7c1e"}, admin, adminRole, "", nil, "HIGH"},
		{"StackSet instances deleted", "cloudformation.amazonaws.com", "DeleteStackInstances", map[string]any{"stackSetName": "rootguard-member-forwarder"}, admin, adminRole, "", nil, "HIGH"},
		{"versioned Lambda name", "lambda.amazonaws.com", "DeleteFunction20150331", map[string]any{"functionName": "arn:aws:lambda:eu-west-1:999988887777:function:rootguard-audit"}, admin, adminRole, "", nil, "HIGH"},
		// The attacker's cheap ways around a forwarder's key and function: a grant on rootguard's
		// key, and a function's concurrency set to zero.
		{"grant on rootguard's key", "kms.amazonaws.com", "CreateGrant", map[string]any{"keyId": "alias/rootguard"}, admin, adminRole, "", nil, "HIGH"},
		{"concurrency removed", "lambda.amazonaws.com", "DeleteFunctionConcurrency20171031", map[string]any{"functionName": "rootguard-scp-guard"}, admin, adminRole, "", nil, "HIGH"},
		// A role named like the deployment role would be exempt from this rule (and from the guard
		// SCP): creating or re-trusting one is tampering, unless StackSets' service role does it.
		{"deployer look-alike role created", "iam.amazonaws.com", "CreateRole", map[string]any{"roleName": "stacksets-exec-backdoor"}, admin, adminRole, "", nil, "HIGH"},
		{"deployer role re-trusted", "iam.amazonaws.com", "UpdateAssumeRolePolicy", map[string]any{"roleName": "stacksets-exec-0123abcd"}, admin, adminRole, "", nil, "HIGH"},
		{"StackSets creates its execution role", "iam.amazonaws.com", "CreateRole", map[string]any{"roleName": "stacksets-exec-0123abcd"},
			"arn:aws:sts::333333333333:assumed-role/AWSServiceRoleForCloudFormationStackSetsOrgMember/x",
			"arn:aws:iam::333333333333:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/AWSServiceRoleForCloudFormationStackSetsOrgMember", "", nil, ""},
		{"an ordinary role", "iam.amazonaws.com", "CreateRole", map[string]any{"roleName": "acme-app"}, admin, adminRole, "", nil, ""},
		{"Lambda read", "lambda.amazonaws.com", "GetFunction20150331v2", map[string]any{"functionName": "rootguard-audit"}, admin, adminRole, "", nil, ""},
		{"alerts unsubscribed", "sns.amazonaws.com", "Unsubscribe", map[string]any{"subscriptionArn": "arn:aws:sns:eu-west-1:999988887777:rootguard-alerts:1b2c"}, admin, adminRole, "", nil, "HIGH"},
		{"state table deleted", "dynamodb.amazonaws.com", "DeleteTable", map[string]any{"tableName": "RootGuard-Central-StateTable1A2B"}, admin, adminRole, "", nil, "HIGH"},
		{"key alias repointed", "kms.amazonaws.com", "UpdateAlias", map[string]any{"aliasName": "alias/rootguard", "targetKeyId": "k-2"}, admin, adminRole, "", nil, "HIGH"},
		{"key by id is not recognised", "kms.amazonaws.com", "ScheduleKeyDeletion", map[string]any{"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}, admin, adminRole, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := NewEngine(Config{StaxDomains: []string{"stax.example"}, DeploymentPrincipals: tt.deployers,
				TrustedPrincipals: []string{adminRole}})
			if err != nil {
				t.Fatal(err)
			}
			ev := tamperEvent(t, tt.source, tt.event, tt.params, tt.arn, tt.issuer, tt.code)
			var got []string
			for _, f := range eng.Evaluate(ev, nil, GroupCustody) {
				got = append(got, f.Severity.String())
				if f.Rule != ForwarderTampered || f.AccountID != "333333333333" {
					t.Errorf("finding %s on %s", f.Rule, f.AccountID)
				}
			}
			if (tt.want == "" && len(got) > 0) || (tt.want != "" && (len(got) != 1 || got[0] != tt.want)) {
				t.Errorf("got %v, want %q", got, tt.want)
			}
		})
	}
}

// TestForwarderTamperedNeverLowered: a valid exception on the account and a trusted principal
// lower nothing (custody rules are never lowered).
func TestForwarderTamperedNeverLowered(t *testing.T) {
	exp := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
	doc := org.SnapshotDoc{
		Organization: org.Organization{ID: "o-x", ManagementAccountID: "111111111111", RootID: "r-x"},
		Accounts: []org.Account{{ID: "111111111111", Name: "m", Email: ptr("m@stax.example"), ParentID: "r-x"},
			{ID: "333333333333", Name: "w", Email: ptr("w@acme.example"), ParentID: "r-x", Tags: map[string]string{ExceptionTag: "CHG-1;expires=" + exp}}},
	}
	facts, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::333333333333:role/Admin"
	eng, _ := NewEngine(Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: []string{role}})
	ev := tamperEvent(t, "events.amazonaws.com", "DeleteRule", map[string]any{"name": "rootguard-forward-root-activity"},
		"arn:aws:sts::333333333333:assumed-role/Admin/alice", role, "")
	fs := eng.Evaluate(ev, facts, GroupCustody)
	if len(fs) != 1 || fs[0].Severity != finding.High || fs[0].Exception != "" {
		t.Errorf("findings %+v, want one HIGH not lowered", fs)
	}
}
