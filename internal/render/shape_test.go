package render

import (
	"regexp"
	"testing"
)

// The plain checks agree with the patterns they replace.
func TestShapeChecksMatchPatterns(t *testing.T) {
	regionRe := regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRe := regexp.MustCompile(`^[0-9]{12}$`)
	inputs := []string{
		"", "us-east-1", "eu-west-2", "ap-southeast-12", "us-gov-west-1", "cn-north-1", "eu-central-",
		"us-east", "us--east-1", "use-east-1", "u-east-1", "US-east-1", "us-east-1a", "us-east-1-", "-us-east-1",
		"us-1", "us-east-x", "us-eas1-1", "123456789012", "12345678901", "1234567890123", "12345678901a",
		"１23456789012", "us-east-１",
	}
	for _, s := range inputs {
		t.Run(s, func(t *testing.T) {
			if got, want := isRegion(s), regionRe.MatchString(s); got != want {
				t.Errorf("isRegion(%q) = %v, want %v", s, got, want)
			}
			if got, want := isAccountID(s), accountRe.MatchString(s); got != want {
				t.Errorf("isAccountID(%q) = %v, want %v", s, got, want)
			}
		})
	}
}

func FuzzShapeChecks(f *testing.F) {
	regionRe := regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRe := regexp.MustCompile(`^[0-9]{12}$`)
	f.Add("us-east-1")
	f.Add("123456789012")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isRegion(s), regionRe.MatchString(s); got != want {
			t.Errorf("isRegion(%q) = %v, want %v", s, got, want)
		}
		if got, want := isAccountID(s), accountRe.MatchString(s); got != want {
			t.Errorf("isAccountID(%q) = %v, want %v", s, got, want)
		}
	})
}
