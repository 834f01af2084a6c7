package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	got, err := Load(route.RootActivity, env(map[string]string{
		EnvStaxDomains: " stax.example , accounts.stax.example ",
		EnvEventBus:    "rootguard",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		StaxDomains:            []string{"stax.example", "accounts.stax.example"},
		ExceptionMaxAge:        24 * time.Hour,
		RootCredentialsMode:    ModeAuditRole,
		AuditRoleName:          DefaultAuditRoleName,
		EventBus:               "rootguard",
		MinSeverityEmail:       finding.Low,
		MinSeverityChat:        finding.Medium,
		MinSeveritySecurityHub: finding.Informational,
		FactsTTL:               DefaultFactsTTL,
		OnboardingWait:         DefaultOnboardingWait,
		LogLevel:               slog.LevelInfo,
		TrustSuspension:        24 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadEverything(t *testing.T) {
	got, err := Load(route.Notifier, env(map[string]string{
		EnvProtectionSCP:       "Stax-Protection*,guard",
		EnvTrustedPrincipals:   "arn:aws:iam::111111111111:role/stax-guardrail-automation",
		EnvExceptionMaxAge:     "4h",
		EnvRootCredentialsMode: "ASSUME-ROOT",
		EnvAlertsTopicARN:      "arn:aws:sns:us-east-1:111111111111:rootguard-alerts",
		EnvChatTopicARN:        "arn:aws:sns:us-east-1:111111111111:rootguard-chat",
		EnvSecurityHub:         "true",
		EnvMinSeverityEmail:    "high",
		EnvMinSeverityChat:     "CRITICAL",
		EnvMinSeveritySecHub:   "low",
		EnvDedupTable:          "rootguard-dedup",
		EnvFactsTTL:            "0",
		EnvOnboardingWait:      "30s",
		EnvLogLevel:            "DEBUG",
		EnvExceptionApprovers:  " arn:aws:iam::111111111111:role/stax-exception-approver ,arn:aws:iam::111111111111:user/ops/bob",
		EnvTrustSuspension:     "2h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ProtectionSCP:          []string{"Stax-Protection*", "guard"},
		TrustedPrincipals:      []string{"arn:aws:iam::111111111111:role/stax-guardrail-automation"},
		ExceptionMaxAge:        4 * time.Hour,
		RootCredentialsMode:    ModeAssumeRoot,
		AuditRoleName:          DefaultAuditRoleName,
		AlertsTopicARN:         "arn:aws:sns:us-east-1:111111111111:rootguard-alerts",
		ChatTopicARN:           "arn:aws:sns:us-east-1:111111111111:rootguard-chat",
		SecurityHub:            true,
		MinSeverityEmail:       finding.High,
		MinSeverityChat:        finding.Critical,
		MinSeveritySecurityHub: finding.Low,
		DedupTable:             "rootguard-dedup",
		OnboardingWait:         30 * time.Second,
		LogLevel:               slog.LevelDebug,
		ExceptionApprovers:     []string{"arn:aws:iam::111111111111:role/stax-exception-approver", "arn:aws:iam::111111111111:user/ops/bob"},
		TrustSuspension:        2 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

// TestLoadErrors checks that each bad value is reported with the variable's name, all at once.
func TestLoadErrors(t *testing.T) {
	evaluator := map[string]string{EnvStaxDomains: "stax.example", EnvEventBus: "rootguard"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name     string
		function string
		env      map[string]string
		want     []string // substrings of the error
	}{
		{"no stax domains", route.SCPGuard, map[string]string{EnvEventBus: "rootguard"}, []string{EnvStaxDomains + ": not set"}},
		{"no bus", route.Onboarding, map[string]string{EnvStaxDomains: "stax.example"}, []string{EnvEventBus + ": not set"}},
		{"bad bus", route.Audit, with(evaluator, EnvEventBus, "root guard!"), []string{EnvEventBus, `"root guard!"`}},
		{"bus arn", route.Audit, with(evaluator, EnvEventBus, "arn:aws:events:us-east-1:111111111111:rule/x"), []string{EnvEventBus}},
		{"bad domain", route.RootActivity, with(evaluator, EnvStaxDomains, "ops@stax.example"), []string{EnvStaxDomains, "not a domain name"}},
		{"bad protection name", route.RootActivity, with(evaluator, EnvProtectionSCP, "a*b"), []string{EnvProtectionSCP, "trailing *"}},
		{"bad trusted principal", route.RootActivity, with(evaluator, EnvTrustedPrincipals, "arn:aws:iam::*:role/x"), []string{EnvTrustedPrincipals, "exact ARN"}},
		{"bad mode", route.RootActivity, with(evaluator, EnvRootCredentialsMode, "root"), []string{EnvRootCredentialsMode, `"root"`}},
		{"bad role", route.RootActivity, with(evaluator, EnvAuditRoleName, "a role"), []string{EnvAuditRoleName}},
		{"bad duration", route.RootActivity, with(evaluator, EnvFactsTTL, "5 minutes"), []string{EnvFactsTTL, "Go duration"}},
		{"negative duration", route.RootActivity, with(evaluator, EnvExceptionMaxAge, "-1h"), []string{EnvExceptionMaxAge}},
		{"bad exception approver", route.SCPGuard, with(evaluator, EnvExceptionApprovers, "arn:aws:iam::111111111111:role/*"), []string{EnvExceptionApprovers, "not an IAM role or user ARN"}},
		{"bad trust suspension", route.SCPGuard, with(evaluator, EnvTrustSuspension, "a day"), []string{EnvTrustSuspension}},
		{"bad log level", route.RootActivity, with(evaluator, EnvLogLevel, "loud"), []string{EnvLogLevel, "loud"}},
		{"bad table", route.RootActivity, with(evaluator, EnvDedupTable, "x"), []string{EnvDedupTable}},
		{"no channel", route.Notifier, map[string]string{}, []string{"no delivery channel"}},
		{"bad topic", route.Notifier, map[string]string{EnvAlertsTopicARN: "arn:aws:sqs:us-east-1:111111111111:q"}, []string{EnvAlertsTopicARN}},
		{"bad severity", route.Notifier, map[string]string{EnvSecurityHub: "yes please", EnvMinSeverityChat: "urgent"}, []string{EnvSecurityHub, EnvMinSeverityChat, "urgent"}},
		{"unknown function", "nope", map[string]string{}, []string{`unknown function "nope"`}},
		{"several at once", route.RootActivity, map[string]string{EnvLogLevel: "x"}, []string{EnvStaxDomains, EnvEventBus, EnvLogLevel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.function, env(tt.env))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Load: %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadNotifierIgnoresEvaluatorVariables(t *testing.T) {
	if _, err := Load(route.Notifier, env(map[string]string{EnvSecurityHub: "true"})); err != nil {
		t.Errorf("notifier without Stax domains or bus: %v", err)
	}
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{" a ,b,, c ", []string{"a", "b", "c"}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, List(tt.in)); diff != "" {
				t.Errorf("List(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCentralAccount(t *testing.T) {
	for in, want := range map[string]string{"": "", " 999988887777 ": "999988887777"} {
		got, err := CentralAccount(func(string) string { return in })
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"12345", "99998888777x", "9999888877770"} {
		_, err := CentralAccount(func(string) string { return in })
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), EnvCentralAccount) {
			t.Errorf("%q: %v, want an error naming %s", in, err, EnvCentralAccount)
		}
	}
}
