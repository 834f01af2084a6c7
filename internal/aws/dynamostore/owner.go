package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
)

// The Store also keeps the recorded ownership of accounts (awsorg.OwnerStore), one item per
// account, with no expiry:
//
//	id                  owner#<account id> (partition key)
//	accountId, ownership (stax-owned | customer-owned), email, recordedAt (RFC 3339)
//	rootEmailChangedAt  when the root email of a Stax-owned account moved off the Stax-managed
//	                    domains (absent when it did not), and
//	eventId             that AcceptPrimaryEmailUpdate's event id
var _ awsorg.OwnerStore = (*Store)(nil)

func ownerKey(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: awsorg.OwnerKeyPrefix + id}}
}

// GetOwner implements awsorg.OwnerStore with a strongly consistent read.
func (s *Store) GetOwner(ctx context.Context, accountID string) (awsorg.OwnerRecord, bool, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: ownerKey(accountID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return awsorg.OwnerRecord{}, false, fmt.Errorf("read the recorded ownership of account %s from table %s: %w", accountID, s.Table, err)
	}
	it := out.Item
	if len(it) == 0 {
		return awsorg.OwnerRecord{}, false, nil
	}
	r := awsorg.OwnerRecord{
		AccountID:          strAttr(it, "accountId"),
		Ownership:          strAttr(it, "ownership"),
		Email:              strAttr(it, "email"),
		RootEmailChangedAt: strAttr(it, "rootEmailChangedAt"),
		EventID:            strAttr(it, "eventId"),
	}
	if r.AccountID == "" {
		r.AccountID = accountID
	}
	if t, err := time.Parse(time.RFC3339Nano, strAttr(it, "recordedAt")); err == nil {
		r.RecordedAt = t
	}
	return r, true, nil
}

// PutOwner implements awsorg.OwnerStore; with ifAbsent the write is conditional on no record.
func (s *Store) PutOwner(ctx context.Context, r awsorg.OwnerRecord, ifAbsent bool) (bool, error) {
	it := map[string]ddbtypes.AttributeValue{
		"id":         ownerKey(r.AccountID)["id"],
		"accountId":  &ddbtypes.AttributeValueMemberS{Value: r.AccountID},
		"ownership":  &ddbtypes.AttributeValueMemberS{Value: r.Ownership},
		"recordedAt": &ddbtypes.AttributeValueMemberS{Value: r.RecordedAt.UTC().Format(time.RFC3339Nano)},
	}
	for k, v := range map[string]string{"email": r.Email, "rootEmailChangedAt": r.RootEmailChangedAt, "eventId": r.EventID} {
		if v != "" {
			it[k] = &ddbtypes.AttributeValueMemberS{Value: v}
		}
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: it}
	if ifAbsent {
		in.ConditionExpression = aws.String("attribute_not_exists(id)")
	}
	if _, err := s.API.PutItem(ctx, in); err != nil {
		var exists *ddbtypes.ConditionalCheckFailedException
		if ifAbsent && errors.As(err, &exists) {
			return false, nil
		}
		return false, fmt.Errorf("record the ownership of account %s in table %s: %w", r.AccountID, s.Table, err)
	}
	return true, nil
}
