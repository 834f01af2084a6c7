package awsorg

import (
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

func custodySeed() org.SnapshotDoc {
	doc := awsfake.Sample()
	t, f := true, false
	doc.Organization.Features = []string{"RootCredentialsManagement", "RootSessions"}
	doc.Organization.Trails = []org.Trail{
		{ARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org", Organization: &t, MultiRegion: &t, Logging: &t, ManagementEvents: &t},
		{ARN: "arn:aws:cloudtrail:eu-west-1:111111111111:trail/data", Organization: &f, MultiRegion: &f, Logging: &f, ManagementEvents: &f},
	}
	return doc
}

// TestSnapshotFeaturesAndTrails: the snapshot reads the IAM features and the management account's
// trails through the real SDK clients, one GetTrailStatus and one GetEventSelectors per trail.
func TestSnapshotFeaturesAndTrails(t *testing.T) {
	seed := custodySeed()
	e := setup(t, seed, Config{Mode: ModeAuditRole, RoleName: auditRole})
	doc, err := Snapshot(t.Context(), e.facts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.Organization.Features, seed.Organization.Features) {
		t.Errorf("features %v, want %v", doc.Organization.Features, seed.Organization.Features)
	}
	if len(doc.Organization.Trails) != 2 {
		t.Fatalf("trails %+v", doc.Organization.Trails)
	}
	for i, tr := range doc.Organization.Trails {
		want := seed.Organization.Trails[i]
		if tr.ARN != want.ARN || *tr.Organization != *want.Organization || *tr.MultiRegion != *want.MultiRegion || *tr.Logging != *want.Logging || *tr.ManagementEvents != *want.ManagementEvents {
			t.Errorf("trail %d: %+v, want %+v", i, tr, want)
		}
	}
	counts := e.fake.CallCounts()
	if counts["cloudtrail.DescribeTrails"] != 1 || counts["cloudtrail.GetTrailStatus"] != 2 || counts["cloudtrail.GetEventSelectors"] != 2 || counts["iam.ListOrganizationsFeatures"] != 1 {
		t.Errorf("calls: %v", counts)
	}
}

// TestSnapshotFeaturesAndTrailsRefused: a refused call leaves what it would have told unknown
// (null), and the snapshot is still written.
func TestSnapshotFeaturesAndTrailsRefused(t *testing.T) {
	denied := awsfake.APIError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: "no"}
	for _, tc := range []struct {
		name    string
		service string
		op      string
		check   func(t *testing.T, o org.Organization)
	}{
		{"features", awsfake.IAM, "ListOrganizationsFeatures", func(t *testing.T, o org.Organization) {
			if o.Features != nil || o.Trails == nil {
				t.Errorf("features %v (want unknown), trails %v", o.Features, o.Trails)
			}
		}},
		{"trail listing", awsfake.CloudTrail, "DescribeTrails", func(t *testing.T, o org.Organization) {
			if o.Trails != nil || o.Features == nil {
				t.Errorf("trails %v (want unknown), features %v", o.Trails, o.Features)
			}
		}},
		{"trail status", awsfake.CloudTrail, "GetTrailStatus", func(t *testing.T, o org.Organization) {
			if len(o.Trails) != 2 || o.Trails[0].Logging != nil || o.Trails[0].ManagementEvents == nil {
				t.Errorf("trails %+v: want logging unknown, the rest known", o.Trails)
			}
		}},
		{"event selectors", awsfake.CloudTrail, "GetEventSelectors", func(t *testing.T, o org.Organization) {
			if len(o.Trails) != 2 || o.Trails[1].ManagementEvents != nil || o.Trails[1].Logging == nil {
				t.Errorf("trails %+v: want management events unknown, the rest known", o.Trails)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, custodySeed(), Config{Mode: ModeAuditRole, RoleName: auditRole})
			e.fake.Fail(tc.service, tc.op, denied, -1)
			doc, err := Snapshot(t.Context(), e.facts)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, doc.Organization)
			if _, err := org.NewSnapshot(doc); err != nil {
				t.Errorf("the snapshot does not load: %v", err)
			}
		})
	}
	// Unknown in the seed: the fake refuses, the snapshot says null.
	seed := awsfake.Sample()
	e := setup(t, seed, Config{Mode: ModeAuditRole, RoleName: auditRole})
	doc, err := Snapshot(t.Context(), e.facts)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Organization.Features != nil || doc.Organization.Trails != nil {
		t.Errorf("unknown features and trails: %v %v", doc.Organization.Features, doc.Organization.Trails)
	}
}

func TestRecordsManagement(t *testing.T) {
	yes, no := aws.Bool(true), aws.Bool(false)
	adv := func(category string, readOnly ...string) []cttypes.AdvancedEventSelector {
		fs := []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{category}}}
		if len(readOnly) > 0 {
			fs = append(fs, cttypes.AdvancedFieldSelector{Field: aws.String("readOnly"), Equals: readOnly})
		}
		return []cttypes.AdvancedEventSelector{{FieldSelectors: fs}}
	}
	for _, tc := range []struct {
		name  string
		basic []cttypes.EventSelector
		adv   []cttypes.AdvancedEventSelector
		want  bool
	}{
		{"default selector", []cttypes.EventSelector{{}}, nil, true},
		{"management included", []cttypes.EventSelector{{IncludeManagementEvents: yes, ReadWriteType: cttypes.ReadWriteTypeAll}}, nil, true},
		{"management excluded", []cttypes.EventSelector{{IncludeManagementEvents: no, ReadWriteType: cttypes.ReadWriteTypeAll}}, nil, false},
		{"read-only management", []cttypes.EventSelector{{IncludeManagementEvents: yes, ReadWriteType: cttypes.ReadWriteTypeReadOnly}}, nil, false},
		{"no selector", nil, nil, false},
		{"advanced management", nil, adv("Management"), true},
		{"advanced management, read-only only", nil, adv("Management", "true"), false},
		{"advanced data only", nil, adv("Data"), false},
	} {
		if got := recordsManagement(tc.basic, tc.adv); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPolicyContentReadsOnce: a protection SCP seen only in a listing gets its content from one
// DescribePolicy, which is then remembered.
func TestPolicyContentReadsOnce(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{Mode: ModeAuditRole, RoleName: auditRole})
	v := e.view(t)
	if _, err := v.PoliciesFor("r-ab12"); err != nil {
		t.Fatal(err)
	}
	if p, _ := v.Policy("p-staxprot1"); p.Content != nil {
		t.Fatalf("a listing gave the content: %+v", p)
	}
	e.fake.ResetCalls()
	for range 3 {
		p, err := org.PolicyWithContent(v, "p-staxprot1")
		if err != nil || p.Content == nil || p.Name != "Stax-Protection" {
			t.Fatalf("PolicyContent: %+v, %v", p, err)
		}
	}
	if n := e.fake.Calls(awsfake.Organizations, "DescribePolicy"); n != 1 {
		t.Errorf("%d DescribePolicy calls, want 1", n)
	}
}
