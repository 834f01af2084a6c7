// Package forwarder audits rootguard's forwarding rules: through the read-only audit role in each
// account, it describes every forwarding rule (rootguard-forward-<function>) in every forwarded
// region and reports, per rule, whether it exists, is enabled and still targets the central bus
// (rule.ForwarderState; the rule engine raises FORWARDER-TAMPERED from them). A rule's own
// DisableRule or DeleteRule event is never forwarded by the rule just changed, so this audit is
// the backstop.
package forwarder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// RulePrefix starts the name of every forwarding rule (infra.ForwardRulePrefix).
const RulePrefix = "rootguard-forward-"

// RuleName is the name of a route's forwarding rule (route.Route.Name) in every account and region.
func RuleName(route string) string { return RulePrefix + route }

// RuleNames are the forwarding rules every account has in every forwarded region: one per
// forwarded route.
func RuleNames() []string {
	var out []string
	for _, r := range routing.Table {
		if r.Forwarded {
			out = append(out, RuleName(r.Name()))
		}
	}
	return out
}

// AssumeRoleAPI is the STS call that opens the audit role's session.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// EventsAPI are the EventBridge reads of the audit.
type EventsAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
}

// Checker reads the forwarding rules of accounts.
type Checker struct {
	STS AssumeRoleAPI
	// Events returns an EventBridge client for a region with the given credentials.
	Events func(region string, creds aws.CredentialsProvider) EventsAPI
	// RoleName is the audit role in every account; Partition defaults to "aws".
	RoleName, Partition string
	// Regions are the forwarded regions; CentralBus is the ARN the rules must target.
	Regions    []string
	CentralBus string
	// Rules are the forwarding rule names (default RuleNames()).
	Rules []string
	// Workers bounds the concurrent reads (default 8).
	Workers int
}

// Check returns the state of every forwarding rule of every account in every region, in account,
// region, rule order. An account whose audit role cannot be assumed, or a region whose reads are
// refused (a region-deny SCP blocks it), is reported with Unknown set: the engine raises nothing
// for it, and the caller logs it.
func (c *Checker) Check(ctx context.Context, accounts []string) []rule.ForwarderState {
	rules := c.Rules
	if len(rules) == 0 {
		rules = RuleNames()
	}
	type job struct {
		i               int
		account, region string
		creds           aws.CredentialsProvider
		assumeErr       error
	}
	var jobs []job
	var out []rule.ForwarderState
	for _, a := range accounts {
		creds, err := c.session(ctx, a)
		for _, region := range c.Regions {
			jobs = append(jobs, job{i: len(out), account: a, region: region, creds: creds, assumeErr: err})
			for _, name := range rules {
				out = append(out, rule.ForwarderState{Account: a, Region: region, Rule: name})
			}
		}
	}
	workers := c.Workers
	if workers <= 0 {
		workers = 8
	}
	ch := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				for k, name := range rules {
					s := &out[j.i+k]
					if j.assumeErr != nil {
						s.Unknown = j.assumeErr.Error()
						continue
					}
					c.read(ctx, c.Events(j.region, j.creds), name, s)
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return out
}

// session assumes the audit role in an account.
func (c *Checker) session(ctx context.Context, account string) (aws.CredentialsProvider, error) {
	partition := c.Partition
	if partition == "" {
		partition = "aws"
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, c.RoleName)
	out, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("rootguard-forwarder-audit")})
	if err != nil {
		return nil, fmt.Errorf("assume role %s: %w", arn, err)
	}
	if out.Credentials == nil {
		return nil, fmt.Errorf("assume role %s: no credentials in the answer", arn)
	}
	cr := out.Credentials
	return credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)), nil
}

// read fills one rule's state.
func (c *Checker) read(ctx context.Context, api EventsAPI, name string, s *rule.ForwarderState) {
	d, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	switch {
	case isCode(err, "ResourceNotFoundException"):
		return // Found stays false: the rule is missing
	case err != nil:
		s.Unknown = fmt.Sprintf("describe rule %s in %s: %v", name, s.Region, err)
		return
	}
	s.Found = true
	s.Enabled = !strings.EqualFold(string(d.State), "DISABLED")
	var token *string
	for {
		t, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name), NextToken: token})
		if err != nil {
			s.Unknown = fmt.Sprintf("list targets of rule %s in %s: %v", name, s.Region, err)
			return
		}
		if slices.ContainsFunc(t.Targets, func(tg ebtypes.Target) bool { return aws.ToString(tg.Arn) == c.CentralBus }) {
			s.TargetsCentral = true
			return
		}
		if token = t.NextToken; token == nil {
			return
		}
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
