package dynalite

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStartTableItemsReset(t *testing.T) {
	s := Start(t)
	name := TableName(t.Name() + "/with spaces:and?marks")
	if name != "t-TestStartTableItemsReset-with-spaces-and-marks" {
		t.Errorf("TableName = %q", name)
	}
	s.CreateTable(t, name)
	ctx := context.Background()
	item := func(id string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Client().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reset(ctx, name, []map[string]ddbtypes.AttributeValue{item("c")}); err != nil {
		t.Fatal(err)
	}
	items, err := s.Items(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0]["id"].(*ddbtypes.AttributeValueMemberS).Value != "c" {
		t.Errorf("after Reset the table holds %v, want only c", items)
	}
	if env := s.Env()["AWS_ENDPOINT_URL_DYNAMODB"]; env != s.Endpoint {
		t.Errorf("Env names %q, want %q", env, s.Endpoint)
	}
}
