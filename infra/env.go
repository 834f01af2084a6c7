package infra

import (
	"fmt"
	"strconv"

	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
)

// envValue is the deployed value of one environment variable for a function; nil leaves the
// variable unset.
type envValue func(f function.Function) *string

// envValues are the values of every variable function.Variables marks Deployed, from the
// deployment's configuration and the central stack's resources.
func (c *Central) envValues(cfg Config) map[string]envValue {
	fixed := func(s string) envValue { return func(function.Function) *string { return jsii.String(s) } }
	reverting := cfg.Revert == RevertDryRun || cfg.Revert == RevertOn
	chat := jsii.String("")
	if c.ChatTopic != nil {
		chat = c.ChatTopic.TopicArn()
	}
	return map[string]envValue{
		function.EnvStaxDomains:         fixed(joinList(cfg.StaxDomains)),
		function.EnvProtectionSCP:       fixed(joinList(cfg.ProtectionSCPNames)),
		function.EnvTrustedPrincipals:   fixed(joinList(cfg.TrustedPrincipals)),
		function.EnvExceptionMaxAge:     fixed(cfg.ExceptionMaxAge.String()),
		function.EnvExceptionApprovers:  fixed(joinList(cfg.ExceptionApprovers)),
		function.EnvTrustSuspension:     fixed(cfg.TrustSuspension.String()),
		function.EnvRootCredentialsMode: fixed(cfg.RootCredentialsMode),
		function.EnvAuditRoleName:       fixed(cfg.AuditRoleName),
		function.EnvCentralAccount:      fixed(cfg.CentralAccount),
		function.EnvEventBus: func(f function.Function) *string {
			if f.Bus == function.OrganizationBus {
				return c.OrgBus.EventBusName()
			}
			return c.FindingsBus.EventBusName()
		},
		function.EnvDedupTable: func(function.Function) *string { return c.DedupTable.TableName() },
		// Revert is off unless configured: the variables are set only to revert or plan.
		function.EnvRevert: func(function.Function) *string {
			if !reverting {
				return nil
			}
			return jsii.String(cfg.Revert)
		},
		function.EnvRevertRole: func(function.Function) *string {
			if !reverting {
				return nil
			}
			return jsii.String(cfg.RevertRoleArn())
		},
		// The forwarder audit (FORWARDER-TAMPERED).
		function.EnvForwardRegions: fixed(joinList(cfg.ForwardRegions)),
		function.EnvCentralBusARN:  fixed(cfg.OrgBusArn()),
		// Delivery.
		function.EnvAlertsTopicARN:    func(function.Function) *string { return c.AlertsTopic.TopicArn() },
		function.EnvChatTopicARN:      func(function.Function) *string { return chat },
		function.EnvSecurityHub:       fixed(strconv.FormatBool(cfg.SecurityHub)),
		function.EnvMinSeverityEmail:  fixed(cfg.MinSeverityEmail),
		function.EnvMinSeverityChat:   fixed(cfg.MinSeverityChat),
		function.EnvMinSeveritySecHub: fixed(cfg.MinSeveritySecurityHub),
		// The heartbeat's round trip: where to write the parameter and which role to assume.
		function.EnvHeartbeatRegions: fixed(joinList(cfg.ForwardRegions)),
		function.EnvHeartbeatRoleARN: fixed(canary.RoundTripRoleARN(cfg.ManagementAccount)),
		// The audit's daily report.
		function.EnvReportBucket:  func(function.Function) *string { return c.ReportBucket.BucketName() },
		function.EnvReportPrefix:  fixed(ReportPrefix),
		function.EnvReportKMSKey:  func(function.Function) *string { return c.Key.KeyArn() },
		function.EnvReportPresign: fixed(presignValue(cfg.ReportPresign)),
		// The audit runs every AuditInterval; the run in the first interval of the UTC day delivers.
		function.EnvReportInterval: fixed(cfg.AuditInterval.String()),
	}
}

// environment is a function's environment: each variable it takes that the infrastructure sets.
func (c *Central) environment(f function.Function, cfg Config) map[string]*string {
	values := c.envValues(cfg)
	env := map[string]*string{}
	for _, e := range f.Env {
		if v, _ := function.VariableOf(e.Name); !v.Deployed {
			continue
		}
		value, ok := values[e.Name]
		if !ok {
			panic(fmt.Sprintf("infra: %s takes %s, which is deployed but has no value here", f.Name, e.Name))
		}
		if s := value(f); s != nil {
			env[e.Name] = s
		}
	}
	return env
}
