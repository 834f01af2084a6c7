package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
)

// reportEnvironment is the audit's report variables in a synthesized central template.
func reportEnvironment(t *testing.T, cfg Config, tpl map[string]any) map[string]string {
	t.Helper()
	bucket := one(t, tpl, "AWS::S3::Bucket", "OwnershipControls", map[string]any{
		"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}}).ID
	presign := ""
	if cfg.ReportPresign > 0 {
		presign = cfg.ReportPresign.String()
	}
	return map[string]string{
		"ROOTGUARD_REPORT_BUCKET":    "${" + bucket + "}",
		"ROOTGUARD_REPORT_PREFIX":    ReportPrefix,
		"ROOTGUARD_REPORT_KMS_KEY":   "${" + keyID(t, tpl) + ".Arn}",
		"ROOTGUARD_REPORT_PRESIGN":   presign,
		"ROOTGUARD_ALERTS_TOPIC_ARN": "${" + one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID + "}",
		"ROOTGUARD_REPORT_INTERVAL":  cfg.AuditInterval.String(),
	}
}

// TestReportBucket: the daily reports' bucket is private, encrypted with the stack's key, TLS-only,
// refuses objects not encrypted with that key, expires reports, and is kept on stack deletion;
// only the audit role may write to it (and read, only with pre-signed links), under the prefix.
func TestReportBucket(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			buckets := resourcesOf(tpl, "AWS::S3::Bucket")
			if len(buckets) != 1 {
				t.Fatalf("%d buckets, want the reports bucket only", len(buckets))
			}
			b := buckets[0]
			key := keyID(t, tpl)
			enc := get(b.Props, "BucketEncryption", "ServerSideEncryptionConfiguration", 0)
			if get(enc, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" ||
				render(get(enc, "ServerSideEncryptionByDefault", "KMSMasterKeyID")) != "${"+key+".Arn}" || get(enc, "BucketKeyEnabled") != true {
				t.Errorf("bucket encryption %v, want SSE-KMS with the stack's key and a bucket key", render(enc))
			}
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if get(b.Props, "PublicAccessBlockConfiguration", k) != true {
					t.Errorf("public access block %s not set", k)
				}
			}
			rule := get(b.Props, "LifecycleConfiguration", "Rules", 0)
			if get(rule, "Status") != "Enabled" || get(rule, "ExpirationInDays") != float64(s.cfg.ReportRetentionDays) {
				t.Errorf("lifecycle %v, want expiry after %d days", render(rule), s.cfg.ReportRetentionDays)
			}
			if raw := get(tpl, "Resources", b.ID, "DeletionPolicy"); raw != "Retain" {
				t.Errorf("deletion policy %v, want Retain (reports are evidence)", raw)
			}
			pol := one(t, tpl, "AWS::S3::BucketPolicy", "Bucket", map[string]any{"Ref": b.ID})
			var tls, oldTLS, wrongKey bool
			for _, st := range get(pol.Props, "PolicyDocument", "Statement").([]any) {
				if get(st, "Effect") != "Deny" {
					t.Errorf("bucket policy allows: %v", render(st))
				}
				tls = tls || get(st, "Condition", "Bool", "aws:SecureTransport") == "false"
				oldTLS = oldTLS || get(st, "Condition", "NumericLessThan", "s3:TlsVersion") != nil
				wrongKey = wrongKey || render(get(st, "Condition", "StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id")) == "${"+key+".Arn}"
			}
			if !tls || !oldTLS || !wrongKey {
				t.Errorf("bucket policy: TLS-only %v, TLS 1.2 %v, wrong key refused %v", tls, oldTLS, wrongKey)
			}

			// Only the audit role touches the bucket, and only under the prefix.
			fns := functionIDs(t, tpl)
			objects := "${" + b.ID + ".Arn}/" + ReportPrefix + "*"
			for _, fn := range function.Names() {
				role := ref(resourceByID(t, tpl, fns[fn]).Props["Role"])
				var s3Actions []string
				for _, ps := range allPolicyStatements(CentralStackName, map[string]any{"Resources": map[string]any{role: get(tpl, "Resources", role)}}) {
					for _, a := range strs(ps.Statement["Action"]) {
						if strings.HasPrefix(a, "s3:") {
							s3Actions = append(s3Actions, a)
							if r := strs(ps.Statement["Resource"]); !slices.Equal(r, []string{objects}) {
								t.Errorf("%s: %s on %v, want %s", fn, a, r, objects)
							}
						}
					}
				}
				slices.Sort(s3Actions)
				want := []string(nil)
				if fn == function.Audit {
					want = []string{"s3:PutObject"}
					if s.cfg.ReportPresign > 0 {
						want = []string{"s3:GetObject", "s3:PutObject"}
					}
				}
				if !slices.Equal(s3Actions, want) {
					t.Errorf("%s role: S3 actions %v, want %v", fn, s3Actions, want)
				}
			}
		})
	}
}

// TestReportContext: the report's context values are validated, naming the key.
func TestReportContext(t *testing.T) {
	for key, val := range map[string]any{CtxReportPresign: "200h", CtxReportRetentionDays: 0} {
		ctx := exampleContext(t)
		ctx[key] = val
		_, err := ConfigFromContext(func(k string) any { return ctx[k] })
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%v: error %v, want one naming %s", key, val, err, key)
		}
	}
}
