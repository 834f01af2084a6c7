package policy

import (
	"os"
	"strings"
	"testing"
)

// loadProtection5K reads a realistic protection SCP of about 5 KB (the SCP limit is 5,120
// characters): root denied everything, Stax roles and audit services protected, a region
// guardrail with a long NotAction list.
func loadProtection5K(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/protection-5k.json")
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 4500 || len(b) > 5120 {
		tb.Fatalf("testdata/protection-5k.json is %d bytes, want a realistic 4,500..5,120", len(b))
	}
	return string(b)
}

// TestProtection5K pins what the benchmark measures, so that it measures a real comparison.
func TestProtection5K(t *testing.T) {
	old := loadProtection5K(t)
	for _, tt := range []struct {
		name, new string
		want      Kind
	}{
		{"same", old, Unchanged},
		{"action added", strings.Replace(old, `"ec2:DisableEbsEncryptionByDefault"`, `"ec2:DisableEbsEncryptionByDefault", "ec2:ResetEbsDefaultKmsKeyId"`, 1), Tightened},
		{"root Deny narrowed", strings.Replace(old, `"Action": "*",`, `"Action": "iam:*",`, 1), Weakened},
		{"region guardrail widened", strings.Replace(old, `"eu-west-1"`, `"eu-west-1", "eu-central-1"`, 1), Other},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.new == old && tt.name != "same" {
				t.Fatal("the replacement did not apply")
			}
			ch, err := Compare(old, tt.new)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Kind != tt.want {
				t.Errorf("Compare = %v %q, want %v", ch.Kind, ch.Reasons, tt.want)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	content := loadProtection5K(b)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(content); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	old := loadProtection5K(b)
	cases := []struct{ name, new string }{
		{"unchanged", old},
		{"tightened", strings.Replace(old, `"ec2:DisableEbsEncryptionByDefault"`, `"ec2:DisableEbsEncryptionByDefault", "ec2:ResetEbsDefaultKmsKeyId"`, 1)},
		{"weakened", strings.Replace(old, `"Action": "*",`, `"Action": "iam:*",`, 1)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(old) + len(c.new)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compare(old, c.new); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
