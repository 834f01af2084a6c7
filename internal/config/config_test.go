package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	got, err := Load(function.RootActivity, env(map[string]string{
		function.EnvStaxDomains: " stax.example , accounts.stax.example ",
		function.EnvEventBus:    "rootguard",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		StaxDomains:         []string{"stax.example", "accounts.stax.example"},
		ExceptionMaxAge:     24 * time.Hour,
		RootCredentialsMode: ModeAuditRole,
		AuditRoleName:       function.DefaultAuditRoleName,
		EventBus:            "rootguard",
		FactsTTL:            function.DefaultFactsTTL,
		LogLevel:            slog.LevelInfo,
		TrustSuspension:     24 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	onboarding, err := Load(function.Onboarding, env(map[string]string{function.EnvStaxDomains: "stax.example", function.EnvEventBus: "rootguard"}))
	if err != nil || onboarding.OnboardingWait != function.DefaultOnboardingWait {
		t.Errorf("onboarding: wait %v, %v; want the default %v", onboarding.OnboardingWait, err, function.DefaultOnboardingWait)
	}
	notifier, err := Load(function.Notifier, env(map[string]string{function.EnvSecurityHub: "true"}))
	if err != nil {
		t.Fatal(err)
	}
	wantNotifier := Config{SecurityHub: true, MinSeverityEmail: finding.Low, MinSeverityChat: finding.Medium,
		MinSeveritySecurityHub: finding.Informational, LogLevel: slog.LevelInfo}
	if diff := cmp.Diff(wantNotifier, notifier); diff != "" {
		t.Errorf("Load notifier (-want +got):\n%s", diff)
	}
}

// TestLoadEverything sets every variable, each function's own and all the others: each function
// reads its own (function.Table) and no other.
func TestLoadEverything(t *testing.T) {
	all := env(map[string]string{
		function.EnvStaxDomains:          "stax.example",
		function.EnvEventBus:             "rootguard-findings",
		function.EnvCentralAccount:       "999988887777",
		function.EnvProtectionSCP:        "Stax-Protection*,guard",
		function.EnvTrustedPrincipals:    "arn:aws:iam::111111111111:role/stax-guardrail-automation",
		function.EnvExceptionMaxAge:      "4h",
		function.EnvRootCredentialsMode:  "ASSUME-ROOT",
		function.EnvAuditRoleName:        "ignored-in-assume-root",
		function.EnvAlertsTopicARN:       "arn:aws:sns:us-east-1:111111111111:rootguard-alerts",
		function.EnvChatTopicARN:         "arn:aws:sns:us-east-1:111111111111:rootguard-chat",
		function.EnvSecurityHub:          "true",
		function.EnvMinSeverityEmail:     "high",
		function.EnvMinSeverityChat:      "CRITICAL",
		function.EnvMinSeveritySecHub:    "low",
		function.EnvDedupTable:           "rootguard-dedup",
		function.EnvFactsTTL:             "0",
		function.EnvOnboardingWait:       "30s",
		function.EnvLogLevel:             "DEBUG",
		function.EnvExceptionApprovers:   " arn:aws:iam::111111111111:role/stax-exception-approver ,arn:aws:iam::111111111111:user/ops/bob",
		function.EnvTrustSuspension:      "2h",
		function.EnvDeploymentPrincipals: "arn:aws:iam::*:role/deployer",
		function.EnvRevert:               "off",
	})
	evaluator := Config{
		StaxDomains:          []string{"stax.example"},
		EventBus:             "rootguard-findings",
		ProtectionSCP:        []string{"Stax-Protection*", "guard"},
		TrustedPrincipals:    []string{"arn:aws:iam::111111111111:role/stax-guardrail-automation"},
		ExceptionMaxAge:      4 * time.Hour,
		RootCredentialsMode:  ModeAssumeRoot,
		AuditRoleName:        "ignored-in-assume-root",
		DedupTable:           "rootguard-dedup",
		LogLevel:             slog.LevelDebug,
		ExceptionApprovers:   []string{"arn:aws:iam::111111111111:role/stax-exception-approver", "arn:aws:iam::111111111111:user/ops/bob"},
		TrustSuspension:      2 * time.Hour,
		DeploymentPrincipals: []string{"arn:aws:iam::*:role/deployer"},
	}
	onboarding := evaluator
	onboarding.OnboardingWait = 30 * time.Second
	scpGuard := evaluator
	scpGuard.Revert = RevertOff
	audit := evaluator // and the daily summary's topic
	audit.AlertsTopicARN = "arn:aws:sns:us-east-1:111111111111:rootguard-alerts"
	for name, want := range map[string]Config{
		function.RootActivity: evaluator,
		function.Audit:        audit,
		function.Onboarding:   onboarding,
		function.SCPGuard:     scpGuard,
		function.Notifier: {
			AlertsTopicARN:         "arn:aws:sns:us-east-1:111111111111:rootguard-alerts",
			ChatTopicARN:           "arn:aws:sns:us-east-1:111111111111:rootguard-chat",
			SecurityHub:            true,
			MinSeverityEmail:       finding.High,
			MinSeverityChat:        finding.Critical,
			MinSeveritySecurityHub: finding.Low,
			DedupTable:             "rootguard-dedup",
			LogLevel:               slog.LevelDebug,
		},
		function.Heartbeat: {EventBus: "rootguard-findings", LogLevel: slog.LevelDebug},
	} {
		got, err := Load(name, all)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Load %s (-want +got):\n%s", name, diff)
		}
	}
}

// TestReaders: every variable of the table is read, by Load or by its own loader.
func TestReaders(t *testing.T) {
	elsewhere := map[string]bool{
		function.EnvCentralAccount: true, function.EnvForwardRegions: true, function.EnvCentralBusARN: true,
		function.EnvHeartbeatRegions: true, function.EnvHeartbeatRoleARN: true,
		// functions/internal/daily
		function.EnvReportBucket: true, function.EnvReportPrefix: true, function.EnvReportKMSKey: true,
		function.EnvReportPresign: true, function.EnvReportInterval: true,
	}
	for _, v := range function.Variables {
		if _, ok := readers[v.Name]; ok == elsewhere[v.Name] {
			t.Errorf("%s: read by Load %v, by its own loader %v; want exactly one", v.Name, ok, elsewhere[v.Name])
		}
	}
}

// TestLoadErrors checks that each bad value is reported with the variable's name, all at once.
func TestLoadErrors(t *testing.T) {
	evaluator := map[string]string{function.EnvStaxDomains: "stax.example", function.EnvEventBus: "rootguard"}
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
		{"no stax domains", function.SCPGuard, map[string]string{function.EnvEventBus: "rootguard"}, []string{function.EnvStaxDomains + ": not set"}},
		{"no bus", function.Onboarding, map[string]string{function.EnvStaxDomains: "stax.example"}, []string{function.EnvEventBus + ": not set"}},
		{"bad bus", function.Audit, with(evaluator, function.EnvEventBus, "root guard!"), []string{function.EnvEventBus, `"root guard!"`}},
		{"bus arn", function.Audit, with(evaluator, function.EnvEventBus, "arn:aws:events:us-east-1:111111111111:rule/x"), []string{function.EnvEventBus}},
		{"bad mode", function.RootActivity, with(evaluator, function.EnvRootCredentialsMode, "root"), []string{function.EnvRootCredentialsMode, `"root"`}},
		{"bad role", function.RootActivity, with(evaluator, function.EnvAuditRoleName, "a role"), []string{function.EnvAuditRoleName}},
		{"bad duration", function.RootActivity, with(evaluator, function.EnvFactsTTL, "5 minutes"), []string{function.EnvFactsTTL, "Go duration"}},
		{"negative duration", function.RootActivity, with(evaluator, function.EnvExceptionMaxAge, "-1h"), []string{function.EnvExceptionMaxAge}},
		{"bad trust suspension", function.SCPGuard, with(evaluator, function.EnvTrustSuspension, "a day"), []string{function.EnvTrustSuspension}},
		{"bad log level", function.RootActivity, with(evaluator, function.EnvLogLevel, "loud"), []string{function.EnvLogLevel, "loud"}},
		{"bad table", function.RootActivity, with(evaluator, function.EnvDedupTable, "x"), []string{function.EnvDedupTable}},
		{"no channel", function.Notifier, map[string]string{}, []string{"no delivery channel"}},
		{"bad topic", function.Notifier, map[string]string{function.EnvAlertsTopicARN: "arn:aws:sqs:us-east-1:111111111111:q"}, []string{function.EnvAlertsTopicARN}},
		{"bad severity", function.Notifier, map[string]string{function.EnvSecurityHub: "yes please", function.EnvMinSeverityChat: "urgent"}, []string{function.EnvSecurityHub, function.EnvMinSeverityChat, "urgent"}},
		{"unknown function", "nope", map[string]string{}, []string{`unknown function "nope"`}},
		{"several at once", function.RootActivity, map[string]string{function.EnvLogLevel: "x"}, []string{function.EnvStaxDomains, function.EnvEventBus, function.EnvLogLevel}},
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
	if _, err := Load(function.Notifier, env(map[string]string{function.EnvSecurityHub: "true"})); err != nil {
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
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), function.EnvCentralAccount) {
			t.Errorf("%q: %v, want an error naming %s", in, err, function.EnvCentralAccount)
		}
	}
}
