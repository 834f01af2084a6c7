// Package evaluator builds the handlers of the evaluator functions (root-activity, scp-guard,
// onboarding) and of audit: the rule engine, the live organization facts (awsorg, with the state
// table as the protection SCPs' memory for scp-guard and audit when ROOTGUARD_DEDUP_TABLE is set)
// and the rootguard event bus publisher.
package evaluator

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/aws/forwarder"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/rule"
)

// liveFacts adapts awsorg.Facts to handler.Facts.
type liveFacts struct{ f *awsorg.Facts }

func (l liveFacts) For(ctx context.Context) org.Facts { return l.f.For(ctx) }
func (l liveFacts) Invalidate(ev *cloudtrail.Event)   { l.f.Invalidate(ev) }

// StateTable builds the protection SCPs' store on the state table (internal/aws/dynamostore.New);
// scp-guard and the audit keep the protection SCPs' state there, and every evaluator reads the
// custody state (exception grants, trust suspensions) from it.
type StateTable func(cfg aws.Config, table string) awsorg.Store

// parts are what every evaluator and the audit share.
type parts struct {
	base   *wire.Base
	engine *rule.Engine
	facts  handler.Facts
	bus    *handler.Bus
	// custody is the state table's exception grants and trust suspensions (nil without a table).
	custody handler.Custody
}

func build(ctx context.Context, function string, table StateTable) (*parts, error) {
	b, err := wire.Load(ctx, function)
	if err != nil {
		return nil, err
	}
	eng, err := rule.NewEngine(b.Config.Rules())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", function, err)
	}
	ttl := b.Config.FactsTTL
	if ttl == 0 {
		ttl = -1 // awsorg: a negative TTL disables the cache
	}
	acfg := awsorg.Config{
		Mode:     awsorg.Mode(b.Config.RootCredentialsMode),
		RoleName: b.Config.AuditRoleName,
		TTL:      ttl,
		Metrics:  b.Metrics,
		Logger:   b.Log,
	}
	// scp-guard and the audit share the protection SCPs' recorded state through the state table
	// (the audit's listing seeds it; scp-guard reads the state before each change from it).
	if t := b.Config.DedupTable; t != "" && table != nil && (function == route.SCPGuard || function == route.Audit) {
		rc := eng.Config()
		acfg.Store = table(b.AWS, t)
		acfg.Remember = rc.IsProtectionName
	}
	// root-activity, onboarding and the audit read and record each account's ownership in the state
	// table (owner#<account id>): ownership is sticky.
	if t := b.Config.DedupTable; t != "" && table != nil && RecordsOwnership(function) {
		if st, ok := table(b.AWS, t).(awsorg.OwnerStore); ok {
			rc := eng.Config()
			acfg.Owners, acfg.Ownership = st, rc.Ownership
		}
	}
	// root-activity and onboarding only read the custody state (exception grants, trust
	// suspensions) from the table; scp-guard writes it.
	var custodyOnly awsorg.Store
	if t := b.Config.DedupTable; t != "" && table != nil && (function == route.RootActivity || function == route.Onboarding) {
		custodyOnly = table(b.AWS, t)
	}
	if err := acfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: organization facts: %w", function, err)
	}
	clients, err := awsorg.NewClients(b.AWSUncounted)
	if err != nil {
		return nil, fmt.Errorf("%s: organization facts: %w", function, err)
	}
	p := &parts{
		base:   b,
		engine: eng,
		facts:  liveFacts{awsorg.New(acfg, clients)},
		bus:    &handler.Bus{API: eventbridge.NewFromConfig(b.AWS), Name: b.Config.EventBus},
	}
	// The state table also keeps the exceptions granted and the trust suspended (dynamostore).
	if cs, ok := acfg.Store.(handler.Custody); ok {
		p.custody = cs
	} else if cs, ok := custodyOnly.(handler.Custody); ok {
		p.custody = cs
	}
	return p, nil
}

// RecordsOwnership reports whether a function reads and records accounts' ownership in the state
// table: the functions that evaluate root events and those that first see an account.
func RecordsOwnership(function string) bool {
	return function == route.RootActivity || function == route.Onboarding || function == route.Audit
}

// New builds the handler of root-activity, scp-guard or onboarding, evaluating the given rule
// groups; table builds the state table's store (nil: no state table, no exception counts).
func New(ctx context.Context, function string, table StateTable, groups ...rule.Group) (*handler.Evaluator, error) {
	p, err := build(ctx, function, table)
	if err != nil {
		return nil, err
	}
	return evaluatorOf(p, function, groups...)
}

// evaluatorOf is the handler of an evaluating function from its wiring.
func evaluatorOf(p *parts, function string, groups ...rule.Group) (*handler.Evaluator, error) {
	central, err := config.CentralAccount(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", function, err)
	}
	h := &handler.Evaluator{
		Function: function, Engine: p.engine, Groups: groups, Facts: p.facts, Out: p.bus,
		Log: p.base.Log, Metrics: p.base.Metrics, CentralAccount: central, Custody: p.custody,
	}
	if function == route.Onboarding {
		h.OnboardingWait = p.base.Config.OnboardingWait
	}
	return h, nil
}

// Audit builds the handler of the audit function, with its state table.
func Audit(ctx context.Context, table StateTable) (*handler.Auditor, error) {
	p, err := build(ctx, route.Audit, table)
	if err != nil {
		return nil, err
	}
	return auditorOf(p)
}

// auditorOf is the audit's handler from its wiring: the custody state, and the forwarder audit
// when the infrastructure names the forwarded regions.
func auditorOf(p *parts) (*handler.Auditor, error) {
	a := &handler.Auditor{Engine: p.engine, Facts: p.facts, Out: p.bus, Log: p.base.Log, Metrics: p.base.Metrics, Custody: p.custody}
	regions, bus, err := config.ForwarderAudit(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", route.Audit, err)
	}
	if len(regions) > 0 {
		cfg := p.base.AWS
		a.Forwarders = &forwarder.Checker{
			STS: sts.NewFromConfig(cfg),
			Events: func(region string, creds aws.CredentialsProvider) forwarder.EventsAPI {
				return eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.Region, o.Credentials = region, creds })
			},
			RoleName: p.base.Config.AuditRoleName, Regions: regions, CentralBus: bus,
		}
		a.ForwardersManagementOnly = p.base.Config.RootCredentialsMode == config.ModeAssumeRoot
	}
	return a, nil
}
