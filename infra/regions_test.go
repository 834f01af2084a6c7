package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// defaultForwardRegions is DefaultRegions as the configuration orders them.
func defaultForwardRegions() []string {
	rest := slices.DeleteFunc(slices.Clone(DefaultRegions), func(s string) bool { return s == GlobalRegion })
	slices.Sort(rest)
	return append([]string{GlobalRegion}, rest...)
}

// TestRegionsByDefault: without forwardRegions every region enabled by default is forwarded
// (17), opt-in regions are added by configuration, and only real opt-in regions are accepted.
func TestRegionsByDefault(t *testing.T) {
	c, err := ConfigFromContext(getter(validContext()))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ForwardRegions) != 17 || c.ForwardRegions[0] != GlobalRegion {
		t.Errorf("default regions %v: want the 17 enabled by default, us-east-1 first", c.ForwardRegions)
	}
	for _, r := range DefaultRegions {
		if slices.Contains(OptInRegions, r) {
			t.Errorf("%s is both enabled by default and opt-in", r)
		}
	}
	ctx := validContext()
	ctx[CtxOptInRegions] = []any{"af-south-1", "me-south-1"}
	c, err = ConfigFromContext(getter(ctx))
	if err != nil {
		t.Fatal(err)
	}
	want := append(defaultForwardRegions(), "af-south-1", "me-south-1")
	slices.Sort(want[1:])
	if diff := cmp.Diff(want, c.ForwardRegions); diff != "" {
		t.Errorf("default plus opt-in regions (-want +got):\n%s", diff)
	}
	ctx = validContext()
	ctx[CtxForwardRegions] = []any{"eu-west-1"}
	ctx[CtxOptInRegions] = "eu-south-2"
	c, err = ConfigFromContext(getter(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"us-east-1", "eu-south-2", "eu-west-1"}, c.ForwardRegions); diff != "" {
		t.Errorf("narrowed regions plus opt-in (-want +got):\n%s", diff)
	}
	ctx = validContext()
	ctx[CtxOptInRegions] = []any{"eu-west-1"}
	if _, err := ConfigFromContext(getter(ctx)); err == nil || !strings.Contains(err.Error(), `optInRegions: "eu-west-1" is not an opt-in region`) {
		t.Errorf("a default region given as opt-in: %v", err)
	}
}

// TestStackSetToleratesBlockedRegions: the StackSet deploys to every forwarded region in
// parallel, and a region that fails everywhere (a region-deny SCP) does not fail the operation.
func TestStackSetToleratesBlockedRegions(t *testing.T) {
	s := synth(t, auditRole)
	sets := resourcesOf(s.templates[MemberStackSetStackName], "AWS::CloudFormation::StackSet")
	if len(sets) != 1 {
		t.Fatalf("%d StackSets, want 1", len(sets))
	}
	got := get(sets[0].Props, "OperationPreferences")
	want := map[string]any{
		"RegionConcurrencyType": "PARALLEL", "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
		"MaxConcurrentPercentage": float64(50), "FailureTolerancePercentage": float64(100),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("operation preferences (-want +got):\n%s", diff)
	}
	if regions := strs(get(sets[0].Props, "StackInstancesGroup", 0, "Regions")); !slices.Equal(regions, s.cfg.ForwardRegions) {
		t.Errorf("StackSet regions %v, want %v", regions, s.cfg.ForwardRegions)
	}
}
