package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// allow is an Allow statement for explicit actions on explicit resources.
func allow(actions, resources []string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	})
}

// allowIf is allow with conditions.
func allowIf(actions, resources []string, conditions map[string]any) awsiam.PolicyStatement {
	s := allow(actions, resources)
	for op, kv := range conditions {
		s.AddConditions(&map[string]any{op: kv})
	}
	return s
}

// servicePrincipalStatement is a resource-policy Allow for AWS service principals.
func servicePrincipalStatement(sid string, services, actions, resources []string, conditions map[string]any) awsiam.PolicyStatement {
	var principals []awsiam.IPrincipal
	for _, s := range services {
		principals = append(principals, awsiam.NewServicePrincipal(jsii.String(s), nil))
	}
	s := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &principals,
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings(resources...),
	})
	for op, kv := range conditions {
		s.AddConditions(&map[string]any{op: kv})
	}
	return s
}

// document is a policy document of statements.
func document(statements ...awsiam.PolicyStatement) awsiam.PolicyDocument {
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
}
