package evaluator

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/function"
)

// RespondTable builds scp-guard's response state on the state table: the revert counts and the
// open findings (internal/aws/dynamostore.NewRespond).
type RespondTable func(cfg aws.Config, table string) (handler.RevertCounter, handler.OpenStore)

// SCPGuard builds scp-guard's handler: the evaluator of the protection rules, with its response
// (handler.Responder). With the state table (ROOTGUARD_DEDUP_TABLE) open findings are kept and
// resolved when the protection is restored; with ROOTGUARD_REVERT=dry-run the revert plan is
// reported, and with on it is executed through the revert role (ROOTGUARD_REVERT_ROLE), which
// scp-guard assumes with its own credentials.
func SCPGuard(ctx context.Context, table StateTable, respond RespondTable) (*handler.Evaluator, error) {
	p, err := build(ctx, function.SCPGuard, table)
	if err != nil {
		return nil, err
	}
	h, err := evaluatorOf(p)
	if err != nil {
		return nil, err
	}
	b := p.base
	c := b.Config
	r := &handler.Responder{Mode: c.Revert, Role: c.RevertRole}
	if r.Mode == "" {
		r.Mode = handler.RevertOff
	}
	if c.DedupTable != "" && respond != nil {
		counter, open := respond(b.AWS, c.DedupTable)
		r.Counter, r.Open = counter, open
	}
	if r.Mode == handler.RevertOn {
		r.Exec = awsorg.NewReverter(b.AWS, c.RevertRole)
	}
	h.Respond = r
	h.Log.Info("scp-guard response", "revert", r.Mode, "revertRole", r.Role, "openFindings", r.Open != nil)
	return h, nil
}

// AuditOpenTable builds the audit's open findings on the state table
// (internal/aws/dynamostore.NewRespond).
type AuditOpenTable func(cfg aws.Config, table string) handler.AuditOpenStore

// AuditResolving builds the audit's handler (see Audit) that also keeps its open findings in the
// state table and resolves them when their checks pass again, and delivers the daily report
// after each audit when the reporter configures one.
func AuditResolving(ctx context.Context, table StateTable, open AuditOpenTable, reporter Reporter) (*handler.Auditor, error) {
	p, err := build(ctx, function.Audit, table)
	if err != nil {
		return nil, err
	}
	h, err := withReport(p, reporter)
	if err != nil {
		return nil, err
	}
	if t := p.base.Config.DedupTable; t != "" && open != nil {
		h.Open = open(p.base.AWS, t)
	}
	return h, nil
}
