package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/statekey"
)

// RevertKeyPrefix starts the id of every revert-count item in the state table.
const RevertKeyPrefix = statekey.Revert

// maxRetries bounds the optimistic read-modify-write of one item under concurrent writers.
const maxRetries = 5

// Respond keeps scp-guard's response state in the state table, beside the policy records:
//
//	id          revert#<resource> (partition key): the reverts of one resource
//	events      a map: event id -> when its revert was admitted (Unix milliseconds)
//	expiresAt   the table's TTL attribute: an hour after the last revert
//	version     a counter for conditional writes
//
//	id          open#<key> (partition key): the open findings about one protection (rule.Open)
//	findings    a map: finding id -> the open record as JSON
//	version     a counter for conditional writes
//
// Every write is a conditional PutItem on the version read, retried on conflict.
type Respond struct {
	API    API
	Table  string
	Window time.Duration // the revert window (handler.RevertWindow)
	Max    int           // reverts admitted per window (handler.MaxRevertsPerHour)
}

func (s *Respond) get(ctx context.Context, id string) (map[string]ddbtypes.AttributeValue, int64, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
	if err != nil {
		return nil, 0, fmt.Errorf("read %s from table %s: %w", id, s.Table, err)
	}
	var version int64
	if v, ok := out.Item["version"].(*ddbtypes.AttributeValueMemberN); ok {
		version, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	return out.Item, version, nil
}

// put writes item if the version is still the one read; conflict is true when it was not.
func (s *Respond) put(ctx context.Context, item map[string]ddbtypes.AttributeValue, version int64) (conflict bool, err error) {
	item["version"] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(version+1, 10)}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}
	if version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(id)")
	} else {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}}
	}
	_, err = s.API.PutItem(ctx, in)
	var cf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("write %s to table %s: %w", item["id"].(*ddbtypes.AttributeValueMemberS).Value, s.Table, err)
	}
	return false, nil
}

func mapAttr(item map[string]ddbtypes.AttributeValue, name string) map[string]ddbtypes.AttributeValue {
	if m, ok := item[name].(*ddbtypes.AttributeValueMemberM); ok && m.Value != nil {
		return m.Value
	}
	return map[string]ddbtypes.AttributeValue{}
}

// Admit implements handler.RevertCounter.
func (s *Respond) Admit(ctx context.Context, resource, eventID string, now time.Time) (bool, int, error) {
	id := RevertKeyPrefix + resource
	for range maxRetries {
		item, version, err := s.get(ctx, id)
		if err != nil {
			return false, 0, err
		}
		events := mapAttr(item, "events")
		since := now.Add(-s.Window).UnixMilli()
		kept := map[string]ddbtypes.AttributeValue{}
		for ev, at := range events {
			n, ok := at.(*ddbtypes.AttributeValueMemberN)
			if !ok {
				continue
			}
			if ms, err := strconv.ParseInt(n.Value, 10, 64); err == nil && ms > since {
				kept[ev] = at
			}
		}
		if _, retry := kept[eventID]; retry {
			return true, len(kept), nil
		}
		if len(kept) >= s.Max {
			return false, len(kept), nil
		}
		kept[eventID] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)}
		conflict, err := s.put(ctx, map[string]ddbtypes.AttributeValue{
			"id":        &ddbtypes.AttributeValueMemberS{Value: id},
			"events":    &ddbtypes.AttributeValueMemberM{Value: kept},
			"expiresAt": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(s.Window).Unix(), 10)},
		}, version)
		if err != nil {
			return false, 0, err
		}
		if !conflict {
			return true, len(kept), nil
		}
	}
	return false, 0, fmt.Errorf("count the reverts of %s in table %s: the item kept changing", resource, s.Table)
}

// Open implements handler.OpenStore.
func (s *Respond) Open(ctx context.Context, key string) ([]rule.Open, error) {
	item, _, err := s.get(ctx, rule.OpenKeyPrefix+key)
	if err != nil {
		return nil, err
	}
	return decodeOpen(key, mapAttr(item, "findings"))
}

func decodeOpen(key string, m map[string]ddbtypes.AttributeValue) ([]rule.Open, error) {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []rule.Open
	for _, id := range ids {
		v, ok := m[id].(*ddbtypes.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("open finding %s under %s: not a string", id, key)
		}
		var o rule.Open
		if err := json.Unmarshal([]byte(v.Value), &o); err != nil {
			return nil, fmt.Errorf("open finding %s under %s: %w", id, key, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// Keep implements handler.OpenStore.
func (s *Respond) Keep(ctx context.Context, open []rule.Open) error {
	byKey := map[string][]rule.Open{}
	for _, o := range open {
		byKey[o.Key] = append(byKey[o.Key], o)
	}
	for key, list := range byKey {
		err := s.update(ctx, key, func(m map[string]ddbtypes.AttributeValue) error {
			for _, o := range list {
				b, err := json.Marshal(o)
				if err != nil {
					return err
				}
				m[o.Finding.ID] = &ddbtypes.AttributeValueMemberS{Value: string(b)}
			}
			trimOpen(key, m)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Drop implements handler.OpenStore.
func (s *Respond) Drop(ctx context.Context, key string, findingIDs []string) error {
	return s.update(ctx, key, func(m map[string]ddbtypes.AttributeValue) error {
		for _, id := range findingIDs {
			delete(m, id)
		}
		return nil
	})
}

func (s *Respond) update(ctx context.Context, key string, change func(map[string]ddbtypes.AttributeValue) error) error {
	id := rule.OpenKeyPrefix + key
	for range maxRetries {
		item, version, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		m := mapAttr(item, "findings")
		if err := change(m); err != nil {
			return fmt.Errorf("open findings under %s: %w", key, err)
		}
		conflict, err := s.put(ctx, map[string]ddbtypes.AttributeValue{
			"id":       &ddbtypes.AttributeValueMemberS{Value: id},
			"findings": &ddbtypes.AttributeValueMemberM{Value: m},
		}, version)
		if err != nil {
			return err
		}
		if !conflict {
			return nil
		}
	}
	return fmt.Errorf("open findings under %s in table %s: the item kept changing", key, s.Table)
}

// NewRespond returns scp-guard's response state on table (see Respond), with a DynamoDB client
// built from cfg, counting reverts per hour up to max.
func NewRespond(cfg aws.Config, table string, window time.Duration, max int) *Respond {
	return &Respond{API: dynamodb.NewFromConfig(cfg), Table: table, Window: window, Max: max}
}

// MaxOpenPerKey bounds the open findings kept about one protection, so that the item stays well
// under DynamoDB's 400 KB: beyond it the oldest (by event time) are forgotten: they are about the
// same protection, and the newer ones are resolved by the same restoration.
const MaxOpenPerKey = 25

func trimOpen(key string, m map[string]ddbtypes.AttributeValue) {
	if len(m) <= MaxOpenPerKey {
		return
	}
	open, err := decodeOpen(key, m)
	if err != nil {
		return
	}
	sort.SliceStable(open, func(i, j int) bool { return open[i].Finding.EventTime < open[j].Finding.EventTime })
	for _, o := range open[:len(open)-MaxOpenPerKey] {
		delete(m, o.Finding.ID)
	}
}

// LoadAudit implements handler.AuditOpenStore: the item open#audit, its findings a JSON array.
func (s *Respond) LoadAudit(ctx context.Context) ([]finding.Finding, error) {
	item, _, err := s.get(ctx, rule.OpenKeyPrefix+rule.AuditOpenKey)
	if err != nil {
		return nil, err
	}
	v, ok := item["findings"].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return nil, nil
	}
	var out []finding.Finding
	if err := json.Unmarshal([]byte(v.Value), &out); err != nil {
		return nil, fmt.Errorf("open audit findings in table %s: %w", s.Table, err)
	}
	return out, nil
}

// SaveAudit implements handler.AuditOpenStore.
func (s *Respond) SaveAudit(ctx context.Context, open []finding.Finding) error {
	b, err := json.Marshal(open)
	if err != nil {
		return fmt.Errorf("open audit findings: %w", err)
	}
	id := rule.OpenKeyPrefix + rule.AuditOpenKey
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: map[string]ddbtypes.AttributeValue{
		"id":       &ddbtypes.AttributeValueMemberS{Value: id},
		"findings": &ddbtypes.AttributeValueMemberS{Value: string(b)},
	}})
	if err != nil {
		return fmt.Errorf("write %s to table %s: %w", id, s.Table, err)
	}
	return nil
}
