package awsorg

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rootguard/rootguard/internal/finding"
)

// RevertSessionName is the role session name scp-guard's revert sessions carry. It is for people
// reading CloudTrail only: rootguard recognises its own changes by the role ARN, never by it.
const RevertSessionName = "rootguard-revert"

// Reverter makes the calls of a revert plan (handler.Executor) with the revert role's
// credentials: every call it makes is recorded in CloudTrail under that role's ARN, which is how
// scp-guard knows its own changes.
type Reverter struct {
	// Orgs makes the Organizations calls, with the revert role's credentials.
	Orgs *organizations.Client
}

// NewReverter returns a Reverter whose Organizations client assumes roleARN (session
// RevertSessionName) with cfg's credentials, cached until shortly before they expire.
func NewReverter(cfg aws.Config, roleARN string) *Reverter {
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = NewRetryer() })
	rc := cfg.Copy()
	rc.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = RevertSessionName
	}))
	return &Reverter{Orgs: organizations.NewFromConfig(rc, func(o *organizations.Options) {
		o.Region, o.Retryer = OrganizationsRegion, NewRetryer()
	})}
}

// alreadyDone are the answers that mean the call's effect is already in place (a retry of the
// same revert, or someone restored it first): the revert counts as done.
var alreadyDone = map[string]string{
	"DuplicatePolicyAttachmentException": "already attached",
	"PolicyTypeAlreadyEnabledException":  "already enabled",
	"DuplicateAccountException":          "already there",
}

// Do implements handler.Executor: one call, by its action. note says when the effect was
// already in place.
func (r *Reverter) Do(ctx context.Context, c finding.RevertCall) (note string, err error) {
	p := c.Parameters
	switch c.Action {
	case finding.ActionAttachPolicy:
		_, err = r.Orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(p["PolicyId"]), TargetId: aws.String(p["TargetId"])})
	case finding.ActionUpdatePolicy:
		in := &organizations.UpdatePolicyInput{PolicyId: aws.String(p["PolicyId"])}
		if v, ok := p["Content"]; ok {
			in.Content = aws.String(v)
		}
		if v, ok := p["Name"]; ok {
			in.Name = aws.String(v)
		}
		_, err = r.Orgs.UpdatePolicy(ctx, in)
	case finding.ActionEnablePolicyType:
		_, err = r.Orgs.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(p["RootId"]), PolicyType: types.PolicyType(p["PolicyType"])})
	case finding.ActionMoveAccount:
		_, err = r.Orgs.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(p["AccountId"]),
			SourceParentId: aws.String(p["SourceParentId"]), DestinationParentId: aws.String(p["DestinationParentId"])})
	default:
		return "", fmt.Errorf("revert: %q is not a revert action", c.Action)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if n, ok := alreadyDone[ae.ErrorCode()]; ok {
			return n, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Action, err)
	}
	return "", nil
}
