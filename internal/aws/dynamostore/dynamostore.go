// Package dynamostore keeps the protection SCPs' recorded state (awsorg.Store) and the custody
// state (the exception grants and trust suspensions rule.Custody reads, custody.go) in the
// DynamoDB state table (ROOTGUARD_DEDUP_TABLE). It is apart from awsorg so that only the functions
// that use the table (the evaluators and the audit, not the notifier or the heartbeat) link the
// DynamoDB client.
package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/org"
)

// API reads and writes the state table's items (satisfied by *dynamodb.Client).
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Store is the awsorg.Store on the DynamoDB state table (ROOTGUARD_DEDUP_TABLE, shared with the
// notifier's delivery records). One item per policy, with no expiry:
//
//	id          policy#<policy id> (partition key)
//	policyId, name, policyType, awsManaged (BOOL), deleted (BOOL), recordedAt (RFC 3339)
//	content     the policy document (absent when unknown)
//	eventId     the last event whose change was recorded, and
//	before      the state before it (a map: name, policyType, awsManaged, content), when known
type Store struct {
	API   API
	Table string
}

var _ awsorg.Store = (*Store)(nil)

func policyKey(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: awsorg.PolicyKeyPrefix + id}}
}

// Get implements awsorg.Store with a strongly consistent read.
func (s *Store) Get(ctx context.Context, policyID string) (awsorg.StoredPolicy, bool, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: policyKey(policyID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return awsorg.StoredPolicy{}, false, fmt.Errorf("read the recorded state of policy %s from table %s: %w", policyID, s.Table, err)
	}
	if len(out.Item) == 0 {
		return awsorg.StoredPolicy{}, false, nil
	}
	it := out.Item
	r := awsorg.StoredPolicy{
		Policy:  policyOf(it),
		Deleted: boolAttr(it, "deleted"),
		EventID: strAttr(it, "eventId"),
	}
	if r.Policy.ID = strAttr(it, "policyId"); r.Policy.ID == "" {
		r.Policy.ID = policyID
	}
	if t, err := time.Parse(time.RFC3339Nano, strAttr(it, "recordedAt")); err == nil {
		r.RecordedAt = t
	}
	if m, ok := it["before"].(*ddbtypes.AttributeValueMemberM); ok {
		b := policyOf(m.Value)
		b.ID = r.Policy.ID
		r.Before = &b
	}
	return r, true, nil
}

// Put implements awsorg.Store.
func (s *Store) Put(ctx context.Context, r awsorg.StoredPolicy) error {
	it := policyAttrs(r.Policy)
	it["id"] = policyKey(r.Policy.ID)["id"]
	it["policyId"] = &ddbtypes.AttributeValueMemberS{Value: r.Policy.ID}
	it["deleted"] = &ddbtypes.AttributeValueMemberBOOL{Value: r.Deleted}
	it["recordedAt"] = &ddbtypes.AttributeValueMemberS{Value: r.RecordedAt.UTC().Format(time.RFC3339Nano)}
	if r.EventID != "" {
		it["eventId"] = &ddbtypes.AttributeValueMemberS{Value: r.EventID}
	}
	if r.Before != nil {
		it["before"] = &ddbtypes.AttributeValueMemberM{Value: policyAttrs(*r.Before)}
	}
	if _, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: it}); err != nil {
		return fmt.Errorf("record the state of policy %s in table %s: %w", r.Policy.ID, s.Table, err)
	}
	return nil
}

func policyAttrs(p org.Policy) map[string]ddbtypes.AttributeValue {
	m := map[string]ddbtypes.AttributeValue{
		"awsManaged": &ddbtypes.AttributeValueMemberBOOL{Value: p.AWSManaged},
	}
	// DynamoDB refuses empty strings in a key only; absent still reads better than "".
	if p.Name != "" {
		m["name"] = &ddbtypes.AttributeValueMemberS{Value: p.Name}
	}
	if p.Type != "" {
		m["policyType"] = &ddbtypes.AttributeValueMemberS{Value: p.Type}
	}
	if p.Content != nil {
		m["content"] = &ddbtypes.AttributeValueMemberS{Value: *p.Content}
	}
	return m
}

func policyOf(it map[string]ddbtypes.AttributeValue) org.Policy {
	p := org.Policy{Name: strAttr(it, "name"), Type: strAttr(it, "policyType"), AWSManaged: boolAttr(it, "awsManaged")}
	if c, ok := it["content"].(*ddbtypes.AttributeValueMemberS); ok {
		v := c.Value
		p.Content = &v
	}
	return p
}

func strAttr(it map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := it[k].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func boolAttr(it map[string]ddbtypes.AttributeValue, k string) bool {
	v, ok := it[k].(*ddbtypes.AttributeValueMemberBOOL)
	return ok && v.Value
}

// New returns the Store on table, with a DynamoDB client built from cfg.
func New(cfg aws.Config, table string) awsorg.Store {
	return &Store{API: dynamodb.NewFromConfig(cfg), Table: table}
}
