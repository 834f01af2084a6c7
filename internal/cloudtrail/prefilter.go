package cloudtrail

import "bytes"

// The byte patterns of records that can raise a finding. Every rule reads one of: a root identity
// (userIdentity.type "Root"), an event source among Organizations, Control Tower and sign-in,
// sts:AssumeRoot, or the canary marker. A JSON string can spell any of them with \u escapes, so
// a record holding an escape is a candidate too. The source names are matched by a distinctive
// tail, which is enough for a superset.
var (
	patRoot          = []byte("Root") // "Root", and "AssumeRoot"
	patOrganizations = []byte("zations.amazonaws.com")
	patControlTower  = []byte("ltower.amazonaws.com")
	patSignIn        = []byte("signin.amazonaws.com")
	patCanary        = []byte("rootguardCanary")
	patEscape        = []byte(`\u`)
	// patAccount: root email changes (Account Management API), made by any principal.
	patAccount = []byte("account.amazonaws.com")
	// patRootguard is in every name of rootguard's own resources (rootguard-*, RootGuard-*,
	// StackSet-rootguard-*), which FORWARDER-TAMPERED reads inside longer names and ARNs.
	patRootguard      = []byte("ootguard")
	patRootguardUpper = []byte("OOTGUARD")
	// patIAM: TRUSTED-PRINCIPAL-CHANGED.
	patIAM = []byte("iam.amazonaws.com")
)

// namesRootguard reports whether a string may name one of rootguard's own resources.
func namesRootguard(b []byte) bool {
	return bytes.Contains(b, patRootguard) || bytes.Contains(b, patRootguardUpper)
}

// TrustEventNames are the IAM calls that can change a trusted principal or an exception approver
// (TRUSTED-PRINCIPAL-CHANGED): the Stream keeps a record holding one of these names whole, so
// that IAM reads and other IAM calls are not decoded.
var TrustEventNames = []string{
	"UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
	"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateRole", "DeleteRole", "CreateRole",
	"AttachUserPolicy", "PutUserPolicy", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile",
}

// trustWord reports whether a string's raw content is one of TrustEventNames (by length first:
// it runs on every string the Stream scans).
func trustWord(b []byte) bool {
	switch len(b) {
	case 10:
		return string(b) == "UpdateRole" || string(b) == "DeleteRole" || string(b) == "CreateRole"
	case 13:
		return string(b) == "PutRolePolicy" || string(b) == "PutUserPolicy"
	case 15:
		return string(b) == "CreateAccessKey"
	case 16:
		return string(b) == "AttachRolePolicy" || string(b) == "DetachRolePolicy" || string(b) == "DeleteRolePolicy" || string(b) == "AttachUserPolicy"
	case 18:
		return string(b) == "CreateLoginProfile" || string(b) == "UpdateLoginProfile"
	case 22:
		return string(b) == "UpdateAssumeRolePolicy"
	case 26:
		return string(b) == "PutRolePermissionsBoundary"
	case 29:
		return string(b) == "DeleteRolePermissionsBoundary"
	}
	return false
}

// MayMatter is a fast byte check that a raw record (one JSON value) could raise a rootguard
// finding, so that the full Decode runs only on candidates. It never reports false for a record
// that can matter: one whose userIdentity.type is "Root"; whose eventSource is
// organizations.amazonaws.com, controltower.amazonaws.com or signin.amazonaws.com; an
// sts:AssumeRoot call; one carrying "rootguardCanary"; a root email change (eventSource
// account.amazonaws.com, made by any principal); one naming a rootguard resource
// (FORWARDER-TAMPERED); or an IAM call of TrustEventNames (TRUSTED-PRINCIPAL-CHANGED watches
// changes to trusted roles by anyone; the byte check keeps every iam.amazonaws.com record). It
// reports true for every record that contains one of those words or any \u escape, so it may say
// true for records that do not matter.
func MayMatter(raw []byte) bool {
	return bytes.Contains(raw, patRoot) ||
		bytes.Contains(raw, patOrganizations) ||
		bytes.Contains(raw, patSignIn) ||
		bytes.Contains(raw, patControlTower) ||
		bytes.Contains(raw, patCanary) ||
		bytes.Contains(raw, patEscape) ||
		bytes.Contains(raw, patAccount) ||
		namesRootguard(raw) ||
		guardMayMatter(raw) ||
		bytes.Contains(raw, patIAM) || containsTrustWord(raw)
}

// containsTrustWord: raw holds one of TrustEventNames (a superset of what the Stream notes).
func containsTrustWord(raw []byte) bool {
	for _, n := range TrustEventNames {
		if bytes.Contains(raw, []byte(n)) {
			return true
		}
	}
	return false
}

// CheckShape is the cheap check run on records that MayMatter drops, which are never decoded:
// given a valid JSON value (as Stream returns), it reports ErrNotEvent unless the value is an
// object with "eventName" and "eventSource" members holding non-empty strings (in the record or
// in an EventBridge envelope's detail).
//
// It looks at bytes only, so a wrong-typed field (userIdentity a string, say) is detected only
// in records that can matter, which Decode checks fully. When the byte check fails, CheckShape
// decodes the value to give Decode's exact answer and reason (keys spelled in another case,
// which encoding/json accepts, pass that way).
func CheckShape(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' &&
		hasStringMember(raw, []byte(`"eventName"`)) && hasStringMember(raw, []byte(`"eventSource"`)) {
		return nil
	}
	_, err := Decode(raw)
	return err
}

// hasStringMember reports whether valid JSON raw has a member key (given with its quotes)
// whose value is a non-empty string. It may be fooled by a key that ends with an escaped quote
// followed by the name; that only lets a malformed record that cannot matter pass unreported.
func hasStringMember(raw, key []byte) bool {
	for i := 0; ; {
		j := bytes.Index(raw[i:], key)
		if j < 0 {
			return false
		}
		k := skipSpace(raw, i+j+len(key))
		i = k
		if k >= len(raw) || raw[k] != ':' {
			continue // a string value, not a key
		}
		k = skipSpace(raw, k+1)
		if k+1 < len(raw) && raw[k] == '"' && raw[k+1] != '"' {
			return true
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
