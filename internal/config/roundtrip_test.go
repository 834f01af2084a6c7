package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/function"
)

func TestLoadRoundTrip(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := LoadRoundTrip(env(map[string]string{
		function.EnvHeartbeatRegions: " us-east-1, eu-west-1 ,", function.EnvHeartbeatRoleARN: "arn:aws:iam::111111111111:role/rootguard-heartbeat",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := RoundTrip{Regions: []string{"us-east-1", "eu-west-1"}, RoleARN: "arn:aws:iam::111111111111:role/rootguard-heartbeat", ManagementAccount: "111111111111"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if off, err := LoadRoundTrip(env(nil)); err != nil || len(off.Regions) != 0 {
		t.Errorf("unset: %+v, %v; want the round trip off", off, err)
	}
	for name, c := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"bad region and role": {map[string]string{function.EnvHeartbeatRegions: "us-east-1,Mars", function.EnvHeartbeatRoleARN: "arn:aws:iam::1111:user/x"},
			[]string{function.EnvHeartbeatRegions + `: "Mars" is not a region`, function.EnvHeartbeatRoleARN + `: "arn:aws:iam::1111:user/x" is not an IAM role ARN`}},
		"regions without role": {map[string]string{function.EnvHeartbeatRegions: "us-east-1"}, []string{function.EnvHeartbeatRoleARN + ": not set"}},
		"role without regions": {map[string]string{function.EnvHeartbeatRoleARN: "arn:aws:iam::111111111111:role/rootguard-heartbeat"}, []string{function.EnvHeartbeatRegions + ": not set"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadRoundTrip(env(c.env))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
