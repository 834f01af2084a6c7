// Package notifier builds the notifier function's handler with the delivery channels the
// configuration enables: the SNS alerts (email) and chat topics and Security Hub, and the
// delivery records in the state table (ROOTGUARD_DEDUP_TABLE) that make delivery exactly once per
// channel.
package notifier

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/functions/internal/notify"
	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/internal/function"
)

// New builds the notifier's handler.
func New(ctx context.Context) (*notify.Handler, error) {
	b, err := wire.Load(ctx, function.Notifier)
	if err != nil {
		return nil, err
	}
	cfg := b.Config
	h := &notify.Handler{Log: b.Log, Metrics: b.Metrics}
	if cfg.DedupTable != "" {
		ledger := &notify.DynamoLedger{API: dynamodb.NewFromConfig(b.AWS), Table: cfg.DedupTable}
		h.Ledger, h.Sessions = ledger, ledger
	}
	var snsc *sns.Client
	if cfg.AlertsTopicARN != "" || cfg.ChatTopicARN != "" {
		snsc = sns.NewFromConfig(b.AWS)
	}
	if cfg.AlertsTopicARN != "" {
		h.Channels = append(h.Channels, notify.Channel{Name: notify.ChannelAlerts, MinSeverity: cfg.MinSeverityEmail, People: true,
			Sender: &notify.Alerts{API: snsc, TopicARN: cfg.AlertsTopicARN}})
	}
	if cfg.ChatTopicARN != "" {
		h.Channels = append(h.Channels, notify.Channel{Name: notify.ChannelChat, MinSeverity: cfg.MinSeverityChat, People: true,
			Sender: &notify.Chat{API: snsc, TopicARN: cfg.ChatTopicARN}})
	}
	if cfg.SecurityHub {
		caller := &notify.CallerAccount{STS: sts.NewFromConfig(b.AWS)}
		h.Channels = append(h.Channels, notify.Channel{Name: notify.ChannelSecurityHub, MinSeverity: cfg.MinSeveritySecurityHub,
			Sender: &notify.SecurityHub{API: securityhub.NewFromConfig(b.AWS), Region: b.AWS.Region, Account: caller.Get}})
	}
	return h, nil
}
