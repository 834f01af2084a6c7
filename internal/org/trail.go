package org

import (
	"fmt"
	"slices"
	"strings"
)

// FeatureRootCredentialsManagement is the IAM organization feature that lets the management account
// manage (and remove) member accounts' root credentials centrally.
const FeatureRootCredentialsManagement = "RootCredentialsManagement"

// FeatureRootSessions is the IAM organization feature that allows sts:AssumeRoot task sessions.
const FeatureRootSessions = "RootSessions"

// Trail is one CloudTrail trail of the management account, as the snapshot records it. A nil
// field is unknown (the call that tells it was refused).
type Trail struct {
	ARN string `json:"arn"`
	// Organization: an organization trail (it logs every member account too).
	Organization *bool `json:"organization"`
	// MultiRegion: it logs every region.
	MultiRegion *bool `json:"multiRegion"`
	// Logging: GetTrailStatus says it is logging.
	Logging *bool `json:"logging"`
	// ManagementEvents: its event selectors (or advanced event selectors) include management
	// events (GetEventSelectors).
	ManagementEvents *bool `json:"managementEvents"`
}

// HasFeature reports whether the organization's features are known, and whether name is among them.
func (o Organization) HasFeature(name string) (has, known bool) {
	if o.Features == nil {
		return false, false
	}
	return slices.ContainsFunc(o.Features, func(f string) bool { return strings.EqualFold(f, name) }), true
}

// TrailCoverage says whether an organization trail logs management events: yes when one trail is
// known to be an organization trail, multi-region, logging and recording management events; no
// when every trail is known not to be; unknown (known false) otherwise, with why.
func (o Organization) TrailCoverage() (covered, known bool, why string) {
	if o.Trails == nil {
		return false, false, "the trails of the management account are unknown (not in the organization facts)"
	}
	var unknown, gaps []string
	for _, t := range o.Trails {
		var missing, unsure []string
		check := func(v *bool, what string) {
			switch {
			case v == nil:
				unsure = append(unsure, what+" unknown")
			case !*v:
				missing = append(missing, "not "+what)
			}
		}
		check(t.Organization, "an organization trail")
		check(t.MultiRegion, "multi-region")
		check(t.Logging, "logging")
		check(t.ManagementEvents, "recording management events")
		switch {
		case len(missing) > 0:
			gaps = append(gaps, fmt.Sprintf("%s: %s", t.ARN, strings.Join(missing, ", ")))
		case len(unsure) > 0:
			unknown = append(unknown, fmt.Sprintf("%s: %s", t.ARN, strings.Join(unsure, ", ")))
		default:
			return true, true, fmt.Sprintf("organization trail %s logs management events", t.ARN)
		}
	}
	if len(unknown) > 0 {
		return false, false, "no trail is known to log the organization's management events (" + strings.Join(append(unknown, gaps...), "; ") + ")"
	}
	if len(o.Trails) == 0 {
		return false, true, "the management account has no trail"
	}
	return false, true, "no organization trail logs management events (" + strings.Join(gaps, "; ") + ")"
}

// validateTrails reports trails without an ARN.
func validateTrails(trails []Trail, bad func(string, ...any)) {
	for i, t := range trails {
		if strings.TrimSpace(t.ARN) == "" {
			bad("organization.trails[%d].arn is missing", i)
		}
	}
}

// GuardReader is implemented by facts that read the organization's features and trails apart
// from Organization (the live facts, whose Organization stays one cheap call): the audit asks
// them when Organization leaves them unknown. nil answers are unknown.
type GuardReader interface {
	Features() []string
	Trails() []Trail
}

// WithGuardFacts fills o's unknown features and trails from facts when they can read them.
func WithGuardFacts(facts Facts, o Organization) Organization {
	r, ok := facts.(GuardReader)
	if !ok {
		return o
	}
	if o.Features == nil {
		o.Features = r.Features()
	}
	if o.Trails == nil {
		o.Trails = r.Trails()
	}
	return o
}
