package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/render"
)

// SNSAPI publishes to an SNS topic (satisfied by *sns.Client).
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Alerts sends each finding as an email through the SNS alerts topic: the subject is
// render.EmailSubject, the message render.EmailBody, and the message attributes severity and
// rule let subscriptions filter.
type Alerts struct {
	API      SNSAPI
	TopicARN string
}

// Send implements Sender: one Publish per finding, stopping at the first failure.
func (a *Alerts) Send(ctx context.Context, findings []finding.Finding) error {
	for _, f := range findings {
		in := &sns.PublishInput{
			TopicArn: aws.String(a.TopicARN),
			Subject:  aws.String(render.EmailSubject(f)),
			Message:  aws.String(render.EmailBody(f)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"severity": {DataType: aws.String("String"), StringValue: aws.String(f.Severity.String())},
				"rule":     {DataType: aws.String("String"), StringValue: aws.String(f.Rule)},
			},
		}
		addNewCalls(in, f)
		_, err := a.API.Publish(ctx, in)
		if err != nil {
			return fmt.Errorf("publish finding %s to the alerts topic: %w", f.ID, err)
		}
	}
	return nil
}

// addNewCalls adds the message attribute newCalls (a root session's write calls this delivery is
// the first to name, comma-separated, escaped) when there are any, so that subscriptions can
// filter session updates.
func addNewCalls(in *sns.PublishInput, f finding.Finding) {
	if len(f.NewCalls) == 0 {
		return
	}
	in.MessageAttributes["newCalls"] = snstypes.MessageAttributeValue{DataType: aws.String("String"),
		StringValue: aws.String(render.OneLine(strings.Join(f.NewCalls, ", "), 1000))}
}
