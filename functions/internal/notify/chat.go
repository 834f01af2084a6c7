package notify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/render"
)

// Chat sends each finding to the SNS topic that Amazon Q Developer in chat applications reads,
// as its custom-notification JSON (render.Chat).
type Chat struct {
	API      SNSAPI
	TopicARN string
}

// Send implements Sender: one Publish per finding, stopping at the first failure.
func (c *Chat) Send(ctx context.Context, findings []finding.Finding) error {
	for _, f := range findings {
		msg, err := render.Chat(f)
		if err != nil {
			return fmt.Errorf("%w: %w", fault.ErrPermanent, err)
		}
		in := &sns.PublishInput{
			TopicArn: aws.String(c.TopicARN),
			Message:  aws.String(string(msg)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"severity": {DataType: aws.String("String"), StringValue: aws.String(f.Severity.String())},
				"rule":     {DataType: aws.String("String"), StringValue: aws.String(f.Rule)},
			},
		}
		addNewCalls(in, f)
		_, err = c.API.Publish(ctx, in)
		if err != nil {
			return fmt.Errorf("publish finding %s to the chat topic: %w", f.ID, err)
		}
	}
	return nil
}
