package awsorg

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rootguard/rootguard/internal/org"
)

const svcCloudTrail = "cloudtrail"

// NewTrailsClient builds the CloudTrail client of the trail reads, in cfg's region (a
// multi-region or organization trail is listed in every region), with NewRetryer.
func NewTrailsClient(cfg aws.Config) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Retryer = NewRetryer() })
}

// Features reads the organization's IAM features (iam:ListOrganizationsFeatures); nil (unknown)
// when the call is refused or no client is configured.
func (v *View) Features() []string {
	out, err := v.f.clients.IAM.ListOrganizationsFeatures(v.ctx, &iam.ListOrganizationsFeaturesInput{})
	v.count(svcIAM, "ListOrganizationsFeatures", err)
	if err != nil {
		v.warnRead("the organization's IAM features could not be read; recorded as unknown", err)
		return nil
	}
	feats := []string{}
	for _, f := range out.EnabledFeatures {
		feats = append(feats, string(f))
	}
	return feats
}

// Trails reads the management account's trails (DescribeTrails, then GetTrailStatus and
// GetEventSelectors for each); nil (unknown) when the listing is refused, and a nil field for each
// state a refused call would have told.
func (v *View) Trails() []org.Trail {
	api := v.f.clients.Trails
	if api == nil {
		return nil
	}
	out, err := api.DescribeTrails(v.ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	v.count(svcCloudTrail, "DescribeTrails", err)
	if err != nil {
		v.warnRead("the management account's trails could not be listed; recorded as unknown", err)
		return nil
	}
	trails := []org.Trail{}
	for _, t := range out.TrailList {
		arn := aws.ToString(t.TrailARN)
		if arn == "" {
			arn = aws.ToString(t.Name)
		}
		tr := org.Trail{ARN: arn, Organization: t.IsOrganizationTrail, MultiRegion: t.IsMultiRegionTrail}
		st, err := api.GetTrailStatus(v.ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		v.count(svcCloudTrail, "GetTrailStatus", err)
		if err == nil {
			tr.Logging = st.IsLogging
		} else {
			v.warnRead("trail "+arn+": logging state unknown", err)
		}
		sel, err := api.GetEventSelectors(v.ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		v.count(svcCloudTrail, "GetEventSelectors", err)
		if err == nil {
			m := recordsManagement(sel.EventSelectors, sel.AdvancedEventSelectors)
			tr.ManagementEvents = &m
		} else {
			v.warnRead("trail "+arn+": event selectors unknown", err)
		}
		trails = append(trails, tr)
	}
	return trails
}

// recordsManagement reports whether a trail's selectors record write management events: a
// basic selector including management events (the default) that is not read-only, or an advanced
// selector on eventCategory Management that does not keep read-only events only.
func recordsManagement(basic []cttypes.EventSelector, advanced []cttypes.AdvancedEventSelector) bool {
	if len(advanced) > 0 {
		for _, s := range advanced {
			mgmt, readOnly := false, false
			for _, f := range s.FieldSelectors {
				switch aws.ToString(f.Field) {
				case "eventCategory":
					mgmt = len(f.Equals) > 0 && strings.EqualFold(f.Equals[0], "Management")
				case "readOnly":
					readOnly = len(f.Equals) == 1 && f.Equals[0] == "true"
				}
			}
			if mgmt && !readOnly {
				return true
			}
		}
		return false
	}
	for _, s := range basic {
		if (s.IncludeManagementEvents == nil || *s.IncludeManagementEvents) && s.ReadWriteType != cttypes.ReadWriteTypeReadOnly {
			return true
		}
	}
	return false
}

func (v *View) warnRead(msg string, err error) {
	if l := v.f.cfg.Logger; l != nil {
		l.Warn(msg, "error", err.Error())
	}
}

var (
	_ org.ContentReader = (*View)(nil)
	_ org.GuardReader   = (*View)(nil)
)

// PolicyContent implements org.ContentReader: Policy, and when that answers without content (the
// policy was seen only in a listing) one DescribePolicy, whose answer is recorded like any other.
// While an event that changed the policy is evaluated, or after the policy was deleted, Policy's
// answer stands as it is. A refused DescribePolicy leaves the content unknown (the rules then
// count the policy as not root-guarding).
func (v *View) PolicyContent(id string) (org.Policy, error) {
	p, err := v.Policy(id)
	if err != nil || p.Content != nil {
		return p, err
	}
	f := v.f
	f.mu.Lock()
	rec := f.policies[id]
	settled := rec != nil && (rec.change != nil || rec.deleted)
	f.mu.Unlock()
	if settled {
		return p, nil
	}
	full, err := v.describePolicy(id)
	if err != nil {
		v.warnRead("policy "+id+": content unknown", err)
		return p, nil
	}
	f.recordFull(full)
	v.persist(full, false)
	return clonePolicy(full), nil
}
