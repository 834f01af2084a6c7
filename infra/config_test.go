package infra

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validContext() map[string]any {
	return map[string]any{
		CtxCentralAccount:     "999988887777",
		CtxHomeRegion:         "eu-west-1",
		CtxManagementAccount:  "111122223333",
		CtxOrganizationID:     "o-aa111bb222",
		CtxOrganizationRootID: "r-ab12",
		CtxStaxDomains:        []any{"Stax.Example."},
		CtxAlertEmails:        []any{"security@customer.example"},
	}
}

func getter(ctx map[string]any) func(string) any {
	return func(k string) any { return ctx[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromContext(getter(validContext()))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		CentralAccount: "999988887777", HomeRegion: "eu-west-1", ManagementAccount: "111122223333",
		OrganizationID: "o-aa111bb222", OrganizationRootID: "r-ab12",
		StaxDomains:        []string{"stax.example"},
		ProtectionSCPNames: []string{"Stax-Protection*"},
		AlertEmails:        []string{"security@customer.example"},
		MinSeverityEmail:   "LOW", MinSeverityChat: "MEDIUM", MinSeveritySecurityHub: "INFORMATIONAL",
		AuditSchedule: "rate(6 hours)", AuditInterval: 6 * time.Hour,
		RootCredentialsMode: ModeAuditRole, AuditRoleName: "rootguard-audit",
		ForwardRegions:          defaultForwardRegions(),
		ExceptionMaxAge:         24 * time.Hour,
		LogRetentionDays:        90,
		OrganizationsDelegation: true,
		AssetDir:                "build/arm64",
		ReportRetentionDays:     DefaultReportRetentionDays,
		TrustSuspension:         24 * time.Hour,
		Revert:                  RevertOff,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestConfigValues(t *testing.T) {
	tests := []struct {
		name  string
		set   map[string]any
		check func(c Config) string
	}{
		{"regions: us-east-1 first, sorted, deduplicated, from a -c string", map[string]any{CtxForwardRegions: "us-west-2, eu-west-1,us-east-1,eu-west-1"},
			func(c Config) string {
				return cmp.Diff([]string{"us-east-1", "eu-west-1", "us-west-2"}, c.ForwardRegions)
			}},
		{"regions from a JSON list", map[string]any{CtxForwardRegions: []any{"ap-southeast-2"}},
			func(c Config) string { return cmp.Diff([]string{"us-east-1", "ap-southeast-2"}, c.ForwardRegions) }},
		{"booleans as strings", map[string]any{CtxChat: "true", CtxSecurityHub: "false"},
			func(c Config) string { return cmp.Diff([2]bool{true, false}, [2]bool{c.Chat, c.SecurityHub}) }},
		{"rate in minutes", map[string]any{CtxAuditSchedule: "rate(30 minutes)"},
			func(c Config) string { return cmp.Diff(30*time.Minute, c.AuditInterval) }},
		{"rate of one hour", map[string]any{CtxAuditSchedule: "rate(1 hour)"},
			func(c Config) string { return cmp.Diff(time.Hour, c.AuditInterval) }},
		{"cron with its interval", map[string]any{CtxAuditSchedule: "cron(0 */6 * * ? *)", CtxAuditInterval: "6h"},
			func(c Config) string { return cmp.Diff(6*time.Hour, c.AuditInterval) }},
		{"severity case-insensitive", map[string]any{CtxMinSeverityChat: "critical"},
			func(c Config) string { return cmp.Diff("CRITICAL", c.MinSeverityChat) }},
		{"management is central: no delegation", map[string]any{CtxCentralAccount: "111122223333"},
			func(c Config) string { return cmp.Diff(false, c.OrganizationsDelegation) }},
		{"assume-root", map[string]any{CtxRootCredentialsMode: "assume-root"},
			func(c Config) string { return cmp.Diff(ModeAssumeRoot, c.RootCredentialsMode) }},
		{"trusted principals", map[string]any{CtxTrustedPrincipals: []any{"arn:aws:iam::111122223333:role/stax-automation"}},
			func(c Config) string {
				return cmp.Diff([]string{"arn:aws:iam::111122223333:role/stax-automation"}, c.TrustedPrincipals)
			}},
		{"retention as a number", map[string]any{CtxLogRetentionDays: float64(365)},
			func(c Config) string { return cmp.Diff(365, c.LogRetentionDays) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := validContext()
			for k, v := range tt.set {
				ctx[k] = v
			}
			c, err := ConfigFromContext(getter(ctx))
			if err != nil {
				t.Fatal(err)
			}
			if diff := tt.check(c); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]any
		want []string // every fragment must be in the error
	}{
		{"everything missing", map[string]any{CtxCentralAccount: nil, CtxHomeRegion: nil, CtxManagementAccount: nil, CtxOrganizationID: nil, CtxOrganizationRootID: nil, CtxAlertEmails: nil, CtxStaxDomains: nil},
			[]string{"staxDomains: is required", "centralAccount: is required", "homeRegion: is required", "managementAccount: is required", "organizationId: is required", "organizationRootId: is required", "alertEmails: is required"}},
		{"bad account", map[string]any{CtxCentralAccount: "12345"}, []string{`centralAccount: "12345" is not a 12-digit account id`}},
		{"account as a number", map[string]any{CtxManagementAccount: float64(111122223333)}, []string{"managementAccount: must be a string"}},
		{"bad region", map[string]any{CtxHomeRegion: "Ireland"}, []string{`homeRegion: "Ireland" is not a region`}},
		{"bad org id", map[string]any{CtxOrganizationID: "org-1"}, []string{"organizationId:"}},
		{"bad forward region", map[string]any{CtxForwardRegions: []any{"eu-west-1", "mars-1"}}, []string{`forwardRegions: "mars-1" is not valid`}},
		{"bad domain", map[string]any{CtxStaxDomains: "stax"}, []string{`staxDomains: "stax" is not valid`}},
		{"bad email", map[string]any{CtxAlertEmails: []any{"not-an-address"}}, []string{`alertEmails: "not-an-address" is not valid`}},
		{"bad severity", map[string]any{CtxMinSeverityEmail: "URGENT"}, []string{`minSeverityEmail: "URGENT" is not one of`}},
		{"bad mode", map[string]any{CtxRootCredentialsMode: "root"}, []string{`rootCredentialsMode: "root" is not audit-role or assume-root`}},
		{"bad bool", map[string]any{CtxChat: "yes please"}, []string{`chat: "yes please" is not true or false`}},
		{"wildcard trusted principal", map[string]any{CtxTrustedPrincipals: "arn:aws:iam::111122223333:role/*"}, []string{"trustedPrincipals:"}},
		{"protection name with inner star", map[string]any{CtxProtectionSCPNames: "Stax*Protection"}, []string{"protectionScpNames:"}},
		{"schedule too rare", map[string]any{CtxAuditSchedule: "rate(1 day)"}, []string{"auditSchedule: runs every 24h0m0s"}},
		{"schedule plural", map[string]any{CtxAuditSchedule: "rate(1 hours)"}, []string{"auditSchedule:", "singular unit only for 1"}},
		{"schedule garbage", map[string]any{CtxAuditSchedule: "every 6 hours"}, []string{`auditSchedule: "every 6 hours" is not rate(`}},
		{"cron without interval", map[string]any{CtxAuditSchedule: "cron(0 */6 * * ? *)"}, []string{"auditInterval: is required with a cron()"}},
		{"interval with a rate", map[string]any{CtxAuditInterval: "6h"}, []string{"auditInterval: is derived from a rate()"}},
		{"bad retention", map[string]any{CtxLogRetentionDays: float64(42)}, []string{"logRetentionDays: 42 is not a CloudWatch Logs retention"}},
		{"bad max age", map[string]any{CtxExceptionMaxAge: "one day"}, []string{`exceptionMaxAge: "one day" is not a duration`}},
		{"negative max age", map[string]any{CtxExceptionMaxAge: "-1h"}, []string{"exceptionMaxAge: must be positive"}},
		{"approver not a role or user", map[string]any{CtxExceptionApprovers: "arn:aws:sts::111122223333:assumed-role/a/b"}, []string{"exceptionApprovers:"}},
		{"zero trust suspension", map[string]any{CtxTrustSuspension: "0s"}, []string{"trustSuspension: must be positive"}},
		{"delegation when central is management", map[string]any{CtxCentralAccount: "111122223333", CtxOrganizationsDelegation: true}, []string{"organizationsDelegation: must be false"}},
		{"audit role colliding with function roles", map[string]any{CtxAuditRoleName: "rootguard-audit-function"}, []string{"auditRoleName:", "collide"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := validContext()
			for k, v := range tt.set {
				if v == nil {
					delete(ctx, k)
				} else {
					ctx[k] = v
				}
			}
			_, err := ConfigFromContext(getter(ctx))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestExampleContext: the context documented in cdk.json is valid.
func TestExampleContext(t *testing.T) {
	ctx := exampleContext(t)
	c, err := ConfigFromContext(getter(ctx))
	if err != nil {
		t.Fatalf("cdk.json's example context: %v", err)
	}
	if len(c.ForwardRegions) < 2 || !c.Chat || !c.SecurityHub {
		t.Errorf("the example should show forwarded regions, chat and Security Hub: %+v", c)
	}
}
