package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/statekey"
)

// Delivery record defaults.
const (
	// DefaultLease is how long a channel's claim lasts: longer than any one send (which is
	// stopped LeaseMargin before the claim ends), short enough that a retry after a crash does
	// not wait long.
	DefaultLease = 30 * time.Second
	// LeaseMargin is how long before its claim ends a send is stopped.
	LeaseMargin = 3 * time.Second
	// DefaultRetention is how long a finding's delivery record is kept (the table's TTL).
	DefaultRetention = 30 * 24 * time.Hour
	// FindingKeyPrefix starts the id of every delivery record in the state table; the
	// notifier's IAM policy is limited to these items (dynamodb:LeadingKeys).
	FindingKeyPrefix = statekey.Finding
)

// Ledger errors.
var (
	// ErrDelivered: the channel has already received the finding at this severity.
	ErrDelivered = errors.New("already delivered")
	// ErrDuplicate: the send succeeded, but another invocation had recorded the same channel
	// meanwhile (this invocation's claim expired during the send): the channel received the
	// finding twice.
	ErrDuplicate = errors.New("delivered twice: the claim expired during the send and another invocation delivered too")
)

// BusyError: another invocation holds an unexpired claim on the channel (it is delivering now).
type BusyError struct {
	Channel string
	Until   time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("channel %s is being delivered by another invocation (claim until %s)", e.Channel, e.Until.UTC().Format(time.RFC3339Nano))
}

// Key names a finding's delivery record. A finding is delivered once per channel per severity
// it reaches: a root session's finding (one id for the whole session) is delivered again when a
// later call raises it to a severity not delivered before, and never twice at one severity.
//
// A root session's finding is keyed by its session update instead (Update, see Sessions): it is
// delivered once per channel each time the session's write calls grow, whatever its severity.
type Key struct {
	FindingID string
	Severity  finding.Severity
	// Update, for a root session's finding, is its session update: "<version>-<set hash>".
	Update string
}

// KeyOf is the delivery record key of a finding.
func KeyOf(f finding.Finding) Key {
	if f.Status != "" { // a resolution is delivered once per channel too, apart from the finding
		return Key{FindingID: f.ID + "#" + f.Status, Severity: f.Severity}
	}
	return Key{FindingID: f.ID, Severity: f.Severity}
}

// ID is the record's id in the state table: finding#<finding id>#<SEVERITY>, or for a session
// update finding#<finding id>#calls-<update>.
func (k Key) ID() string {
	if k.Update != "" {
		return FindingKeyPrefix + k.FindingID + "#calls-" + k.Update
	}
	return FindingKeyPrefix + k.FindingID + "#" + k.Severity.String()
}

// Claim is one invocation's lease on one channel of a finding's record.
type Claim struct {
	Key     Key
	Channel string
	// Token identifies the claimant; Until is when the claim expires.
	Token string
	Until time.Time
}

// Ledger records, for each finding and severity, the channels already delivered, and the claim
// an invocation holds on a channel while it sends. Every change is a conditional write, so two
// invocations racing on one finding never both send, a retried or duplicate event sends only
// what is missing, and a claim left by a crashed invocation expires.
type Ledger interface {
	// Claim takes the channel's claim on the record until now+lease. It fails with
	// ErrDelivered when the channel is already recorded, and with a *BusyError when another
	// invocation holds an unexpired claim.
	Claim(ctx context.Context, key Key, channel string, now time.Time, lease time.Duration) (Claim, error)
	// Done records the claimed channel as delivered and ends the claim; ErrDuplicate when
	// another invocation had recorded it meanwhile.
	Done(ctx context.Context, c Claim, now time.Time) error
	// Release ends a claim after a failed send, so that a retry may claim the channel at once.
	Release(ctx context.Context, c Claim) error
}

// DynamoAPI reads and changes the state table's items (satisfied by *dynamodb.Client).
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DynamoLedger is the Ledger on the DynamoDB state table (ROOTGUARD_DEDUP_TABLE). One item per
// finding and severity:
//
//	id           finding#<finding id>#<SEVERITY> (partition key)
//	findingId, severity
//	delivered    string set of the channels delivered
//	lease_<ch>   claim expiry of channel ch, Unix milliseconds (absent when unclaimed)
//	owner_<ch>   claim token of channel ch
//	at_<ch>      when channel ch was recorded delivered (RFC 3339)
//	expiresAt    Unix seconds: the table's TTL removes the record after Retention
//
// Claim expiry is compared with the claimant's clock.
type DynamoLedger struct {
	API   DynamoAPI
	Table string
	// Retention is how long a record is kept (default DefaultRetention).
	Retention time.Duration
}

var _ Ledger = (*DynamoLedger)(nil)

func (l *DynamoLedger) key(k Key) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: k.ID()}}
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func isConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Claim implements Ledger.
func (l *DynamoLedger) Claim(ctx context.Context, key Key, channel string, now time.Time, lease time.Duration) (Claim, error) {
	retention := l.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	token, err := newToken()
	if err != nil {
		return Claim{}, fmt.Errorf("claim %s for %s: %w", channel, key.ID(), err)
	}
	c := Claim{Key: key, Channel: channel, Token: token, Until: now.Add(lease)}
	for attempt := 0; attempt < 3; attempt++ {
		_, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(l.Table),
			Key:       l.key(key),
			UpdateExpression: aws.String("SET #lease = :until, #owner = :token, expiresAt = if_not_exists(expiresAt, :ttl), " +
				"findingId = if_not_exists(findingId, :fid), severity = if_not_exists(severity, :sev)"),
			ConditionExpression: aws.String("(attribute_not_exists(delivered) OR NOT contains(delivered, :ch)) AND " +
				"(attribute_not_exists(#lease) OR #lease < :now)"),
			ExpressionAttributeNames: map[string]string{"#lease": "lease_" + channel, "#owner": "owner_" + channel},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":until": num(c.Until.UnixMilli()), ":token": str(token), ":ttl": num(now.Add(retention).Unix()),
				":fid": str(key.FindingID), ":sev": str(key.Severity.String()), ":ch": str(channel), ":now": num(now.UnixMilli()),
			},
		})
		if err == nil {
			return c, nil
		}
		if !isConditionFailed(err) {
			return Claim{}, fmt.Errorf("claim %s for %s in table %s: %w", channel, key.ID(), l.Table, err)
		}
		// Why did the condition fail? Already delivered, or claimed by another invocation.
		out, gerr := l.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: l.key(key), ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return Claim{}, fmt.Errorf("read %s in table %s after a refused claim on %s: %w", key.ID(), l.Table, channel, gerr)
		}
		if ss, ok := out.Item["delivered"].(*ddbtypes.AttributeValueMemberSS); ok && slices.Contains(ss.Value, channel) {
			return Claim{}, ErrDelivered
		}
		if n, ok := out.Item["lease_"+channel].(*ddbtypes.AttributeValueMemberN); ok {
			if ms, perr := strconv.ParseInt(n.Value, 10, 64); perr == nil && ms >= now.UnixMilli() {
				return Claim{}, &BusyError{Channel: channel, Until: time.UnixMilli(ms)}
			}
		}
		// The claim was released or delivered-and-removed between the two calls: try again.
	}
	return Claim{}, fmt.Errorf("claim %s for %s in table %s: the record kept changing", channel, key.ID(), l.Table)
}

// Done implements Ledger.
func (l *DynamoLedger) Done(ctx context.Context, c Claim, now time.Time) error {
	names := map[string]string{"#lease": "lease_" + c.Channel, "#owner": "owner_" + c.Channel, "#at": "at_" + c.Channel}
	values := map[string]ddbtypes.AttributeValue{
		":chs": &ddbtypes.AttributeValueMemberSS{Value: []string{c.Channel}}, ":at": str(now.UTC().Format(time.RFC3339Nano)),
		":token": str(c.Token),
	}
	_, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       l.key(c.Key),
		UpdateExpression:          aws.String("ADD delivered :chs SET #at = :at REMOVE #lease, #owner"),
		ConditionExpression:       aws.String("#owner = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("record %s delivered for %s in table %s: %w", c.Channel, c.Key.ID(), l.Table, err)
	}
	// The claim expired during the send and was taken over: record the delivery unless the
	// other invocation already did.
	delete(values, ":token")
	values[":ch"] = str(c.Channel)
	delete(names, "#lease")
	delete(names, "#owner")
	_, err = l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       l.key(c.Key),
		UpdateExpression:          aws.String("ADD delivered :chs SET #at = :at"),
		ConditionExpression:       aws.String("attribute_not_exists(delivered) OR NOT contains(delivered, :ch)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		return fmt.Errorf("%s for %s: %w", c.Channel, c.Key.ID(), ErrDuplicate)
	}
	return fmt.Errorf("record %s delivered for %s in table %s: %w", c.Channel, c.Key.ID(), l.Table, err)
}

// Release implements Ledger. A claim that is no longer this invocation's is left alone.
func (l *DynamoLedger) Release(ctx context.Context, c Claim) error {
	_, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       l.key(c.Key),
		UpdateExpression:          aws.String("REMOVE #lease, #owner"),
		ConditionExpression:       aws.String("#owner = :token"),
		ExpressionAttributeNames:  map[string]string{"#lease": "lease_" + c.Channel, "#owner": "owner_" + c.Channel},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":token": str(c.Token)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release the claim on %s for %s in table %s: %w", c.Channel, c.Key.ID(), l.Table, err)
	}
	return nil
}

func newToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("claim token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
