// Package daily delivers the audit function's daily report: the HTML posture report (package
// report) written to the private, KMS-encrypted reports bucket, and a short summary emailed
// through the SNS alerts topic with where the report is (its s3:// URI always; a pre-signed GET
// link only when opted in). Only the audit function links this package, and with it the S3
// client: the evaluators' cold start does not pay for it.
package daily

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/report"
	"github.com/rootguard/rootguard/internal/rule"
)

// The daily report's variables (the audit function's; package function names them): the
// reports bucket (function.EnvReportBucket; empty: no report is written), the key prefix
// (EnvReportPrefix, default function.DefaultReportPrefix), the KMS key ARN the reports are
// encrypted with (EnvReportKMSKey, SSE-KMS; empty: the bucket's default encryption), how long
// the emailed pre-signed GET link is valid (EnvReportPresign, Go duration, default 0 = off, at
// most MaxPresign), the alerts topic the summary is emailed to (function.EnvAlertsTopicARN, the
// notifier's variable), and the audit's schedule interval (EnvReportInterval, Go duration): the
// audit runs several times a day, and the report is delivered by the one run whose time falls
// in the first interval of the UTC day, so once a day (empty, 0 or 24h and more: every run).
// Config.Interval is that interval.

// MaxPresign is the longest a SigV4 pre-signed link can be valid.
const MaxPresign = 7 * 24 * time.Hour

// Config is the daily report's configuration.
type Config struct {
	Bucket, Prefix, KMSKey, TopicARN string
	Presign                          time.Duration
	// Interval is the audit's schedule interval (function.EnvReportInterval).
	Interval time.Duration
}

// LoadConfig reads the configuration from the environment; every bad variable is named.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{Bucket: get(function.EnvReportBucket), Prefix: get(function.EnvReportPrefix), KMSKey: get(function.EnvReportKMSKey), TopicARN: get(function.EnvAlertsTopicARN)}
	if c.Prefix == "" {
		c.Prefix = function.DefaultReportPrefix
	}
	var bad []string
	if v := get(function.EnvReportPresign); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d < 0:
			bad = append(bad, fmt.Sprintf("%s: %q is not a non-negative Go duration (e.g. 72h)", function.EnvReportPresign, v))
		case d > MaxPresign:
			bad = append(bad, fmt.Sprintf("%s: %s is longer than a pre-signed link can be valid (%s)", function.EnvReportPresign, d, MaxPresign))
		default:
			c.Presign = d
		}
	}
	if v := get(function.EnvReportInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad = append(bad, fmt.Sprintf("%s: %q is not a non-negative Go duration (e.g. 6h)", function.EnvReportInterval, v))
		}
		c.Interval = d
	}
	if c.Bucket != "" && (strings.ContainsAny(c.Bucket, "/: ") || len(c.Bucket) < 3 || len(c.Bucket) > 63) {
		bad = append(bad, fmt.Sprintf("%s: %q is not an S3 bucket name", function.EnvReportBucket, c.Bucket))
	}
	if strings.HasPrefix(c.Prefix, "/") {
		bad = append(bad, fmt.Sprintf("%s: %q must not start with /", function.EnvReportPrefix, c.Prefix))
	}
	if c.KMSKey != "" && !strings.HasPrefix(c.KMSKey, "arn:") {
		bad = append(bad, fmt.Sprintf("%s: %q is not a KMS key ARN", function.EnvReportKMSKey, c.KMSKey))
	}
	if len(bad) > 0 {
		return c, fmt.Errorf("invalid rootguard report configuration: %s", strings.Join(bad, "; "))
	}
	return c, nil
}

// S3API is what the delivery calls on S3 (satisfied by *s3.Client).
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Presigner makes pre-signed GET links (satisfied by *s3.PresignClient).
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// SNSAPI publishes the summary (satisfied by *sns.Client).
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Delivery writes the report and emails the summary: handler.Auditor's AfterAudit.
type Delivery struct {
	Config Config
	// Rules is the rule configuration the report shows (protection names, trusted principals).
	Rules rule.Config
	S3    S3API
	// Presign makes the link when Config.Presign is set; Credentials tell when the signing
	// credentials expire, which ends the link sooner (a Lambda role's session lasts hours).
	Presign     Presigner
	Credentials aws.CredentialsProvider
	// SNS emails the summary to Config.TopicARN; nil or no topic: no email.
	SNS SNSAPI
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New builds the delivery from the function's AWS configuration.
func New(cfg aws.Config, c Config, rules rule.Config) *Delivery {
	client := s3.NewFromConfig(cfg)
	d := &Delivery{Config: c, Rules: rules, S3: client, Credentials: cfg.Credentials}
	if c.Presign > 0 {
		d.Presign = s3.NewPresignClient(client)
	}
	if c.TopicARN != "" {
		d.SNS = sns.NewFromConfig(cfg)
	}
	return d
}

// Key is the report's object key for an audit time: PREFIX/YYYY/MM/DD/rootguard-report-<time>.html.
func (d *Delivery) Key(at time.Time) string {
	at = at.UTC()
	return d.Config.Prefix + at.Format("2006/01/02") + "/rootguard-report-" + at.Format("20060102T150405Z") + ".html"
}

// Due reports whether the audit at this time delivers the day's report: it is the run in the
// first Interval of the UTC day (a retry has the same time, so the same answer).
func (c Config) Due(at time.Time) bool {
	if c.Interval <= 0 || c.Interval >= 24*time.Hour {
		return true
	}
	at = at.UTC()
	return at.Sub(at.Truncate(24*time.Hour)) < c.Interval
}

// Deliver renders the report of one audit, writes it to the bucket and emails the summary, when
// the audit is the day's (Config.Due); other runs deliver nothing.
func (d *Delivery) Deliver(ctx context.Context, facts org.Facts, findings []finding.Finding, at time.Time) error {
	if !d.Config.Due(at) {
		return nil
	}
	in := report.Input{Facts: facts, Config: d.Rules, Findings: findings, Generated: at, Sources: "daily audit of the live organization"}
	var buf bytes.Buffer
	if err := report.Render(&buf, in); err != nil {
		return err
	}
	key := d.Key(at)
	put := &s3.PutObjectInput{
		Bucket:             aws.String(d.Config.Bucket),
		Key:                aws.String(key),
		Body:               bytes.NewReader(buf.Bytes()),
		ContentLength:      aws.Int64(int64(buf.Len())),
		ContentType:        aws.String("text/html; charset=utf-8"),
		ContentDisposition: aws.String(`attachment; filename="rootguard-report-` + at.UTC().Format("2006-01-02") + `.html"`),
		CacheControl:       aws.String("no-store"),
	}
	if d.Config.KMSKey != "" {
		put.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		put.SSEKMSKeyId = aws.String(d.Config.KMSKey)
		put.BucketKeyEnabled = aws.Bool(true)
	}
	if _, err := d.S3.PutObject(ctx, put); err != nil {
		return fmt.Errorf("write the report to s3://%s/%s: %w", d.Config.Bucket, key, err)
	}
	loc := report.Location{URI: "s3://" + d.Config.Bucket + "/" + key}
	if d.Presign != nil && d.Config.Presign > 0 {
		link, until, temporary, err := d.presign(ctx, key)
		if err != nil {
			return err
		}
		loc.Link, loc.LinkExpires, loc.LinkTemporary = link, until, temporary
	}
	if d.SNS == nil || d.Config.TopicARN == "" {
		return nil
	}
	subject, body, err := report.Summary(in, loc)
	if err != nil {
		return err
	}
	worst := finding.Informational
	for _, f := range findings {
		worst = max(worst, f.Severity)
	}
	_, err = d.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(d.Config.TopicARN),
		Subject:  aws.String(subject),
		Message:  aws.String(body),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind":     {DataType: aws.String("String"), StringValue: aws.String("daily-report")},
			"severity": {DataType: aws.String("String"), StringValue: aws.String(worst.String())},
		},
	})
	if err != nil {
		return fmt.Errorf("email the daily summary to %s: %w", d.Config.TopicARN, err)
	}
	return nil
}

// presign makes the link, valid for Config.Presign or until the signing credentials expire,
// whichever comes first.
// temporary reports credentials with a session token whose expiry is not known (a Lambda role's):
// the link ends with them, possibly sooner than until.
func (d *Delivery) presign(ctx context.Context, key string) (link string, until time.Time, temporary bool, err error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	until = now().Add(d.Config.Presign)
	if d.Credentials != nil {
		if c, err := d.Credentials.Retrieve(ctx); err == nil {
			if c.CanExpire && c.Expires.Before(until) {
				until = c.Expires
			}
			temporary = c.SessionToken != "" && !c.CanExpire
		}
	}
	req, err := d.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Config.Bucket), Key: aws.String(key)},
		func(o *s3.PresignOptions) { o.Expires = d.Config.Presign })
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("pre-sign a link to s3://%s/%s: %w", d.Config.Bucket, key, err)
	}
	return req.URL, until, temporary, nil
}
