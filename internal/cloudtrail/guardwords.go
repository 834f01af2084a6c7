package cloudtrail

import "bytes"

// SourceCloudTrail is the event source of CloudTrail's own API calls (TRAIL-TAMPERED).
const SourceCloudTrail = "cloudtrail.amazonaws.com"

// The words of the guard rules beyond the root, Organizations, Control Tower and sign-in ones:
// the trail that feeds rootguard (any CloudTrail call) and the IAM calls that turn centralised
// root access off. The IAM names contain "Root", which MayMatter's byte check already finds.
var patCloudTrail = []byte("cloudtrail.amazonaws.com")

// guardMayMatter is MayMatter's byte check for the guard rules' words.
func guardMayMatter(raw []byte) bool { return bytes.Contains(raw, patCloudTrail) }

// guardWord reports whether a whole string value is one of the guard rules' words (the Stream's
// prefilter, next to matchWord).
func guardWord(b []byte) bool {
	switch string(b) {
	case SourceCloudTrail, "DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions":
		return true
	}
	return false
}

// guardMatters reports whether a decoded record is read by the guard rules (for tests of the
// prefilter's superset property).
func guardMatters(ev *Event) bool {
	return ev.EventSource == SourceCloudTrail ||
		(ev.EventSource == SourceIAM && (ev.EventName == "DisableOrganizationsRootCredentialsManagement" || ev.EventName == "DisableOrganizationsRootSessions"))
}

// maxWordLen is the longest word the Stream compares whole (DisableOrganizationsRootCredentialsManagement).
const maxWordLen = 45
