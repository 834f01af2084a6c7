// Package evaluator builds the handlers of the evaluator functions (root-activity, scp-guard,
// onboarding) and of audit: the rule engine, the live organization facts (awsorg, with the state
// table items each function uses when ROOTGUARD_DEDUP_TABLE is set, as function.Table says) and
// the rootguard event bus publisher.
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
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/statekey"
)

// liveFacts adapts awsorg.Facts to handler.Facts.
type liveFacts struct{ f *awsorg.Facts }

func (l liveFacts) For(ctx context.Context) org.Facts { return l.f.For(ctx) }
func (l liveFacts) Invalidate(ev *cloudtrail.Event)   { l.f.Invalidate(ev) }

// StateTable builds the organization facts' store on the state table
// (internal/aws/dynamostore.New): the protection SCPs' state, the custody state (exception
// grants, trust suspensions) and the accounts' recorded ownership, of which each function uses
// the items function.Table gives it.
type StateTable func(cfg aws.Config, table string) awsorg.Store

// parts are what every evaluator and the audit share.
type parts struct {
	fn     function.Function
	base   *wire.Base
	engine *rule.Engine
	facts  handler.Facts
	bus    *handler.Bus
	// custody is the state table's exception grants and trust suspensions (nil without a table).
	custody handler.Custody
}

func build(ctx context.Context, name string, table StateTable) (*parts, error) {
	fn, ok := function.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w: unknown function %q", config.ErrInvalid, name)
	}
	b, err := wire.Load(ctx, name)
	if err != nil {
		return nil, err
	}
	eng, err := Engine(name, b.Config)
	if err != nil {
		return nil, err
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
	// The state table's items the function uses (function.Table): scp-guard and the audit share
	// the protection SCPs' recorded state (the audit's listing seeds it; scp-guard reads the state
	// before each change from it); root-activity, onboarding and the audit read and record each
	// account's ownership (owner#<account id>: ownership is sticky); every evaluator reads the
	// custody state, which scp-guard writes.
	var store awsorg.Store
	if t := b.Config.DedupTable; t != "" && table != nil && fn.UsesState() {
		store = table(b.AWS, t)
	}
	rc := eng.Config()
	if store != nil && fn.Writes(statekey.Policy) {
		acfg.Store, acfg.Remember = store, rc.IsProtectionName
	}
	if st, ok := store.(awsorg.OwnerStore); ok && fn.Writes(statekey.Owner) {
		acfg.Owners, acfg.Ownership = st, rc.Ownership
	}
	if err := acfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: organization facts: %w", name, err)
	}
	clients, err := awsorg.NewClients(b.AWSUncounted)
	if err != nil {
		return nil, fmt.Errorf("%s: organization facts: %w", name, err)
	}
	p := &parts{
		fn:     fn,
		base:   b,
		engine: eng,
		facts:  liveFacts{awsorg.New(acfg, clients)},
		bus:    &handler.Bus{API: eventbridge.NewFromConfig(b.AWS), Name: b.Config.EventBus},
	}
	if cs, ok := store.(handler.Custody); ok && fn.Reads(statekey.Grant) {
		p.custody = cs
	}
	return p, nil
}

// New builds the handler of an evaluating function without a response of its own (root-activity,
// onboarding), evaluating its rule groups (function.Table); table builds the state table's store
// (nil: no state table, no exception counts).
func New(ctx context.Context, name string, table StateTable) (*handler.Evaluator, error) {
	p, err := build(ctx, name, table)
	if err != nil {
		return nil, err
	}
	return evaluatorOf(p)
}

// evaluatorOf is the handler of an evaluating function from its wiring.
func evaluatorOf(p *parts) (*handler.Evaluator, error) {
	central, err := config.CentralAccount(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.fn.Name, err)
	}
	groups := make([]rule.Group, len(p.fn.Groups))
	for i, g := range p.fn.Groups {
		groups[i] = rule.Group(g)
	}
	h := &handler.Evaluator{
		Function: p.fn.Name, Engine: p.engine, Groups: groups, Facts: p.facts, Out: p.bus,
		Log: p.base.Log, Metrics: p.base.Metrics, CentralAccount: central, Custody: p.custody,
	}
	if p.fn.Takes(function.EnvOnboardingWait) {
		h.OnboardingWait = p.base.Config.OnboardingWait
	}
	return h, nil
}

// auditorOf is the audit's handler from its wiring: the custody state, and the forwarder audit
// when the infrastructure names the forwarded regions.
func auditorOf(p *parts) (*handler.Auditor, error) {
	a := &handler.Auditor{Engine: p.engine, Facts: p.facts, Out: p.bus, Log: p.base.Log, Metrics: p.base.Metrics, Custody: p.custody}
	regions, bus, err := config.ForwarderAudit(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.fn.Name, err)
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
