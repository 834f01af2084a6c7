package infra

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rootguard/rootguard/internal/function"
)

// Context keys of the daily report.
const (
	// CtxReportRetentionDays: how many days a daily report is kept in the reports bucket.
	CtxReportRetentionDays = "reportRetentionDays"
	// CtxReportPresign: a Go duration (at most 168h); when set, the daily email carries a
	// pre-signed GET link valid that long, and the audit role may read the reports.
	CtxReportPresign = "reportPresign"
)

// Defaults of the daily report.
const (
	DefaultReportRetentionDays = 90
	// ReportPrefix is the reports' key prefix in the bucket.
	ReportPrefix     = function.DefaultReportPrefix
	maxReportPresign = 7 * 24 * time.Hour
)

// readReport reads the daily report's context into c (called by ConfigFromContext).
func (r *reader) readReport(c *Config) {
	c.ReportRetentionDays = r.integer(CtxReportRetentionDays, DefaultReportRetentionDays)
	if c.ReportRetentionDays < 1 || c.ReportRetentionDays > 3650 {
		r.fail(CtxReportRetentionDays, "%d is not a number of days from 1 to 3650", c.ReportRetentionDays)
	}
	c.ReportPresign = r.duration(CtxReportPresign, 0)
	if c.ReportPresign < 0 || c.ReportPresign > maxReportPresign {
		r.fail(CtxReportPresign, "%s: want 0 (no link) up to 168h, the longest a pre-signed link is valid", c.ReportPresign)
	}
}

// newReportBucket is the daily reports' bucket: private (every public access blocked, objects
// owned by the bucket owner), encrypted with the stack's key (SSE-KMS with a bucket key), TLS-only
// (a Deny on aws:SecureTransport false, and TLS 1.2 at least), refusing objects not encrypted with
// that key, and expiring reports after the retention. It is kept when the stack is deleted.
func (c *Central) newReportBucket(cfg Config) awss3.Bucket {
	b := awss3.NewBucket(c.Stack, jsii.String("ReportBucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     c.Key,
		BucketKeyEnabled:  jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-reports"),
			Enabled:                             jsii.Bool(true),
			Expiration:                          awscdk.Duration_Days(jsii.Number(float64(cfg.ReportRetentionDays))),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	b.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyObjectsNotEncryptedWithTheRootguardKey"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*b.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"StringNotEquals": map[string]any{
			"s3:x-amz-server-side-encryption-aws-kms-key-id": *c.Key.KeyArn(),
		}},
	}))
	suppress(b, "AwsSolutions-S1", "The reports bucket holds only the audit function's daily HTML reports, written by that one role; "+
		"its writes and reads are CloudTrail S3 data events where the organization trail records them, and a log bucket "+
		"would hold nothing the trail does not")
	return b
}

// reportStatements are what the audit function needs for the daily report: write reports under
// the prefix (read them too when links are pre-signed: a link acts with the signer's
// permissions), and email the summary to the alerts topic. The key's use is granted to every
// function already; the report's variables are set by envValues.
func (c *Central) reportStatements(cfg Config) []awsiam.PolicyStatement {
	objects := *c.ReportBucket.ArnForObjects(jsii.String(ReportPrefix + "*"))
	actions := []string{"s3:PutObject"}
	if cfg.ReportPresign > 0 {
		actions = append(actions, "s3:GetObject")
	}
	return []awsiam.PolicyStatement{
		allow(actions, []string{objects}),
		allow([]string{"sns:Publish"}, []string{*c.AlertsTopic.TopicArn()}),
	}
}

// suppressReportObjects explains the audit role's one wildcard resource: the reports' keys.
func suppressReportObjects(role awsiam.Role) {
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The daily reports' object keys are dated (" + ReportPrefix + "YYYY/MM/DD/...): the audit may write " +
			"(and, with pre-signed links, read) objects under that prefix of the reports bucket only"),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<ReportBucket[0-9A-F]*\.Arn>\/reports\/\*$/`)}},
	}}, jsii.Bool(true))
}

func presignValue(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
