package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/statekey"
)

// Item id prefixes of the custody state in the state table; scp-guard and the audit reach only
// these items (and policy#...) through dynamodb:LeadingKeys.
const (
	// GrantKeyPrefix starts the id of an exception grant's item: grant#<resource id>.
	GrantKeyPrefix = statekey.Grant
	// TrustKeyPrefix starts the id of a trust suspension's item: trust#<principal ARN>.
	TrustKeyPrefix = statekey.Trust
)

// revokedRetention is how long a revoked grant's item is kept (the TTL removes it afterwards; a
// missing item counts as no grant as well).
const revokedRetention = 7 * 24 * time.Hour

// The custody state in the state table (rule.Custody), written by scp-guard when it evaluates a
// TagResource, UntagResource or an IAM change to a trusted principal, read by scp-guard and the
// audit. Items:
//
//	id          grant#<resource> (partition key)
//	value, approver, actor, issuer, eventId, grantedAt, expires (RFC 3339)
//	revoked     BOOL: the tag was removed or set by someone else after the grant
//	expiresAt   Unix seconds: the table's TTL removes the item after the exception's expiry
//
//	id          trust#<configured principal ARN>
//	from, until (RFC 3339), eventId, by
//	expiresAt   Unix seconds: the end of the suspension
//
// A trust item keeps the suspension that ends last: a later write never shortens it.

// For returns the custody state bound to one invocation's context.
func (s *Store) For(ctx context.Context) rule.Custody { return custodyView{s: s, ctx: ctx} }

type custodyView struct {
	s   *Store
	ctx context.Context
}

func (v custodyView) get(id string) (map[string]ddbtypes.AttributeValue, error) {
	out, err := v.s.API.GetItem(v.ctx, &dynamodb.GetItemInput{TableName: aws.String(v.s.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// Grant implements rule.Custody.
func (v custodyView) Grant(resource string) (rule.Grant, bool, error) {
	it, err := v.get(GrantKeyPrefix + resource)
	if err != nil {
		return rule.Grant{}, false, fmt.Errorf("read the exception grant on %s from table %s: %w", resource, v.s.Table, err)
	}
	if len(it) == 0 || boolAttr(it, "revoked") {
		return rule.Grant{}, false, nil
	}
	return rule.Grant{
		Resource: resource, Value: strAttr(it, "value"), Approver: strAttr(it, "approver"),
		Actor: strAttr(it, "actor"), Issuer: strAttr(it, "issuer"), EventID: strAttr(it, "eventId"),
		At: timeAttr(it, "grantedAt"), Expires: timeAttr(it, "expires"),
	}, true, nil
}

// Suspended implements rule.Custody.
func (v custodyView) Suspended(principal string, at time.Time) (rule.Suspension, bool, error) {
	it, err := v.get(TrustKeyPrefix + principal)
	if err != nil {
		return rule.Suspension{}, false, fmt.Errorf("read the trust state of %s from table %s: %w", principal, v.s.Table, err)
	}
	if len(it) == 0 {
		return rule.Suspension{}, false, nil
	}
	s := rule.Suspension{Principal: principal, From: timeAttr(it, "from"), Until: timeAttr(it, "until"), EventID: strAttr(it, "eventId"), By: strAttr(it, "by")}
	if at.Before(s.From) || !at.Before(s.Until) {
		return rule.Suspension{}, false, nil
	}
	return s, true, nil
}

// Record writes what one event changed in the custody state: grants, revocations and
// suspensions. A retried event writes the same items again.
func (s *Store) Record(ctx context.Context, ch rule.CustodyChanges, now time.Time) error {
	var errs []error
	for _, r := range ch.Revoked {
		it := map[string]ddbtypes.AttributeValue{
			"id":        str(GrantKeyPrefix + r),
			"revoked":   &ddbtypes.AttributeValueMemberBOOL{Value: true},
			"expiresAt": unix(now.Add(revokedRetention)),
		}
		if err := s.put(ctx, it, nil); err != nil {
			errs = append(errs, fmt.Errorf("record the revoked exception on %s: %w", r, err))
		}
	}
	for _, g := range ch.Grants {
		it := map[string]ddbtypes.AttributeValue{
			"id": str(GrantKeyPrefix + g.Resource), "value": str(g.Value), "approver": str(g.Approver),
			"eventId": str(g.EventID), "grantedAt": str(g.At.UTC().Format(time.RFC3339)), "expires": str(g.Expires.UTC().Format(time.RFC3339)),
			"revoked": &ddbtypes.AttributeValueMemberBOOL{Value: false}, "expiresAt": unix(g.Expires),
		}
		if g.Actor != "" {
			it["actor"] = str(g.Actor)
		}
		if g.Issuer != "" {
			it["issuer"] = str(g.Issuer)
		}
		if err := s.put(ctx, it, nil); err != nil {
			errs = append(errs, fmt.Errorf("record the exception granted on %s: %w", g.Resource, err))
		}
	}
	for _, sp := range ch.Suspensions {
		it := map[string]ddbtypes.AttributeValue{
			"id": str(TrustKeyPrefix + sp.Principal), "from": str(sp.From.UTC().Format(time.RFC3339)), "until": str(sp.Until.UTC().Format(time.RFC3339)),
			"eventId": str(sp.EventID), "by": str(sp.By), "expiresAt": unix(sp.Until),
		}
		// Never shorten a suspension already recorded.
		cond := &dynamodb.PutItemInput{
			ConditionExpression:       aws.String("attribute_not_exists(#id) OR #end <= :end"),
			ExpressionAttributeNames:  map[string]string{"#id": "id", "#end": "expiresAt"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":end": unix(sp.Until)},
		}
		if err := s.put(ctx, it, cond); err != nil {
			errs = append(errs, fmt.Errorf("record the trust suspension of %s: %w", sp.Principal, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("table %s: %w", s.Table, errors.Join(errs...))
	}
	return nil
}

// put writes an item; with cond, a failed condition is not an error (the item stays as it is).
func (s *Store) put(ctx context.Context, it map[string]ddbtypes.AttributeValue, cond *dynamodb.PutItemInput) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: it}
	if cond != nil {
		in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = cond.ConditionExpression, cond.ExpressionAttributeNames, cond.ExpressionAttributeValues
	}
	_, err := s.API.PutItem(ctx, in)
	var ccf *ddbtypes.ConditionalCheckFailedException
	if cond != nil && errors.As(err, &ccf) {
		return nil
	}
	return err
}

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

func unix(t time.Time) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func timeAttr(it map[string]ddbtypes.AttributeValue, k string) time.Time {
	t, err := time.Parse(time.RFC3339, strAttr(it, k))
	if err != nil {
		return time.Time{}
	}
	return t
}
