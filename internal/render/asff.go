package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

// ASFF limits (AwsSecurityFinding in the Security Hub API reference). String lengths are counted
// in UTF-16 code units, as the service does; that is never more than the number of runes.
const (
	ASFFSchemaVersion    = "2018-10-08"
	ASFFMaxBatch         = 100        // findings per BatchImportFindings request
	ASFFMaxFindingBytes  = 240 * 1024 // bytes of one finding's JSON
	asffMaxID            = 512
	asffMaxTitle         = 256
	asffMaxDescription   = 1024
	asffMaxRemediation   = 512
	asffMaxURL           = 512
	asffMaxProductFields = 50
	asffMaxFieldValue    = 2048
	asffMaxResources     = 32
	asffMaxResourceID    = 512
	asffMaxOtherValue    = 1024
)

// ErrASFFContext: the ASFFContext cannot produce valid findings.
var ErrASFFContext = errors.New("invalid ASFF context")

// ErrASFFFinding: a finding cannot be rendered as a valid ASFF finding.
var ErrASFFFinding = errors.New("invalid ASFF finding")

// ASFFContext is what ASFF needs besides the finding.
type ASFFContext struct {
	// Region is the Region the findings are imported into (the BatchImportFindings endpoint).
	Region string
	// CallingAccountID is the account that calls BatchImportFindings (the central account). With
	// the default product ARN Security Hub requires AwsAccountId to equal it; the affected
	// account is named in Resources.
	CallingAccountID string
	// Now is used for CreatedAt and UpdatedAt when the event time is not RFC 3339.
	Now time.Time
}

// Validate reports whether the context can produce valid findings.
func (c ASFFContext) Validate() error {
	if !isRegion(c.Region) {
		return fmt.Errorf("%w: region %q is not an AWS Region code", ErrASFFContext, c.Region)
	}
	if !isAccountID(c.CallingAccountID) {
		return fmt.Errorf("%w: calling account %q is not a 12-digit account id", ErrASFFContext, c.CallingAccountID)
	}
	if c.Now.IsZero() {
		return fmt.Errorf("%w: Now is not set", ErrASFFContext)
	}
	return nil
}

// isRegion reports whether s has the shape of an AWS Region code: two letters, one or more
// words, a number (^[a-z]{2}(-[a-z]+)+-[0-9]+$), checked without a regexp compiled at start.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 || !allIn(parts[0], 'a', 'z') || !allIn(parts[len(parts)-1], '0', '9') {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if !allIn(p, 'a', 'z') {
			return false
		}
	}
	return true
}

// isAccountID reports whether s is a 12-digit account id.
func isAccountID(s string) bool { return len(s) == 12 && allIn(s, '0', '9') }

// allIn reports whether s is not empty and every byte of it is in [lo, hi].
func allIn(s string, lo, hi byte) bool {
	for i := range len(s) {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return s != ""
}

// ASFFFinding is one finding in the AWS Security Finding Format, with the fields rootguard sets.
type ASFFFinding struct {
	SchemaVersion         string             `json:"SchemaVersion"`
	ID                    string             `json:"Id"`
	ProductArn            string             `json:"ProductArn"`
	GeneratorID           string             `json:"GeneratorId"`
	AwsAccountID          string             `json:"AwsAccountId"`
	Types                 []string           `json:"Types"`
	CreatedAt             string             `json:"CreatedAt"`
	UpdatedAt             string             `json:"UpdatedAt"`
	Severity              ASFFSeverity       `json:"Severity"`
	FindingProviderFields ASFFProviderFields `json:"FindingProviderFields"`
	Title                 string             `json:"Title"`
	Description           string             `json:"Description"`
	Remediation           *ASFFRemediation   `json:"Remediation,omitempty"`
	ProductFields         map[string]string  `json:"ProductFields,omitempty"`
	Resources             []ASFFResource     `json:"Resources"`
	RecordState           string             `json:"RecordState"`
}

// ASFFSeverity is the ASFF Severity object.
type ASFFSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

// ASFFProviderFields is the ASFF FindingProviderFields object: the provider's own severity and
// types, which Security Hub keeps apart from the ones users may change.
type ASFFProviderFields struct {
	Severity ASFFSeverity `json:"Severity"`
	Types    []string     `json:"Types"`
}

// ASFFRemediation is the ASFF Remediation object.
type ASFFRemediation struct {
	Recommendation ASFFRecommendation `json:"Recommendation"`
}

// ASFFRecommendation is the ASFF Remediation.Recommendation object.
type ASFFRecommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url,omitempty"`
}

// ASFFResource is one ASFF resource.
type ASFFResource struct {
	Type    string               `json:"Type"`
	ID      string               `json:"Id"`
	Details *ASFFResourceDetails `json:"Details,omitempty"`
}

// ASFFResourceDetails carries the Other details map of a resource.
type ASFFResourceDetails struct {
	Other map[string]string `json:"Other,omitempty"`
}

// asffText sanitizes s to one line (the service's `.*\S.*` pattern does not cross lines),
// neutralises chat markup (findings are often forwarded from Security Hub to chat and ticketing
// tools that render markdown and mentions) and truncates it to limit UTF-16 code units.
func asffText(s string, limit int) string {
	return truncate(chatMarkup(sanitize(s)), limit, utf16Width, ellipsis)
}

// ASFF renders one finding. AwsAccountId is the calling account (the default product ARN
// requires it) and the affected account is the first resource. Text fields are sanitized to one
// line and truncated to the ASFF limits. ASFF does not validate ctx or the finding id: ASFFBatch
// does.
func ASFF(f finding.Finding, ctx ASFFContext) ASFFFinding {
	label := f.Severity.String()
	types := asffTypes(f)
	when := asffTime(f.EventTime, ctx.Now)
	rule := asffText(f.Rule, 128)
	out := ASFFFinding{
		SchemaVersion: ASFFSchemaVersion,
		ID:            f.ID,
		ProductArn:    fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", ctx.Region, ctx.CallingAccountID, ctx.CallingAccountID),
		GeneratorID:   "rootguard/" + rule,
		AwsAccountID:  ctx.CallingAccountID,
		Types:         types,
		CreatedAt:     when,
		UpdatedAt:     when,
		Severity:      ASFFSeverity{Label: label, Original: label},
		FindingProviderFields: ASFFProviderFields{
			Severity: ASFFSeverity{Label: label, Original: label},
			Types:    types,
		},
		Title:         nonEmpty(asffText(f.Title, asffMaxTitle), rule, "rootguard finding"),
		Description:   nonEmpty(asffText(f.Description, asffMaxDescription), asffText(f.Title, asffMaxDescription), rule, "rootguard finding"),
		ProductFields: asffProductFields(f),
		Resources:     asffResources(f),
		RecordState:   "ACTIVE",
	}
	if f.Status == finding.StatusResolved {
		resolveASFF(&out, f, ctx)
	}
	if text := asffText(f.Remediation, asffMaxRemediation); text != "" {
		out.Remediation = &ASFFRemediation{Recommendation: ASFFRecommendation{Text: text, URL: firstURL(f.References)}}
	}
	return out
}

// nonEmpty returns the first of vs that is not empty.
func nonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// asffTime returns the event time in UTC when it parses as RFC 3339, else now.
func asffTime(eventTime string, now time.Time) string {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(eventTime))
	if err != nil {
		t = now
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// typeBestPractices is the namespace and category of a finding that carries no types (the rule
// catalogue gives every rule its types, package rule); ASFF requires one.
const typeBestPractices = "Software and Configuration Checks/AWS Security Best Practices/"

// asffTypes returns a finding's ASFF types: those its rule gave it, else (a finding made
// elsewhere) one best-practices type named after the rule.
func asffTypes(f finding.Finding) []string {
	if len(f.Types) > 0 {
		return slices.Clone(f.Types)
	}
	classifier := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, f.Rule)
	return []string{typeBestPractices + nonEmpty(truncate(classifier, 128, runeWidth, ""), "rootguard")}
}

// asffProductFields returns the rootguard/ product fields, empty values left out.
func asffProductFields(f finding.Finding) map[string]string {
	fields := map[string]string{}
	add := func(key, value string) {
		if v := truncate(sanitize(value), asffMaxFieldValue, utf16Width, ellipsis); v != "" {
			fields["rootguard/"+key] = v
		}
	}
	add("rule", f.Rule)
	add("eventId", f.EventID)
	add("eventName", f.EventName)
	add("eventTime", f.EventTime)
	add("eventRegion", f.Region)
	add("accountId", f.AccountID)
	add("accountName", f.AccountName)
	add("ownership", f.Ownership)
	add("accountRole", f.AccountRole)
	add("actor", f.Actor)
	add("sourceIp", f.SourceIP)
	add("newCalls", strings.Join(f.NewCalls, ", "))
	add("calls", strings.Join(f.Calls, ", "))
	add("exception", f.Exception)
	if f.Canary {
		add("canary", "true")
	}
	add("references", strings.Join(f.References, " "))
	add("revert", f.Revert)
	add("status", f.Status)
	add("resolvedAt", f.ResolvedAt)
	add("resolvedBy", f.ResolvedBy)
	if n := len(f.Resources) - (asffMaxResources - 1); n > 0 {
		add("resourcesOmitted", strconv.Itoa(n))
	}
	return fields
}

// asffResources returns the affected account, then up to 31 of the finding's resources.
func asffResources(f finding.Finding) []ASFFResource {
	other := map[string]string{}
	for k, v := range map[string]string{
		"accountName": f.AccountName, "ownership": f.Ownership, "accountRole": f.AccountRole,
	} {
		if v = truncate(sanitize(v), asffMaxOtherValue, utf16Width, ellipsis); v != "" {
			other[k] = v
		}
	}
	account := ASFFResource{Type: "AwsAccount", ID: "AWS::::Account:" + f.AccountID}
	if !isAccountID(f.AccountID) {
		// Not an account id (unknown account): name it as an Other resource rather than
		// inventing an AwsAccount id.
		id := asffText(f.AccountID, asffMaxResourceID-len("account:"))
		account = ASFFResource{Type: "Other", ID: "account:" + nonEmpty(id, "unknown")}
	}
	if len(other) > 0 {
		account.Details = &ASFFResourceDetails{Other: other}
	}
	out := []ASFFResource{account}
	for _, r := range f.Resources {
		if len(out) == asffMaxResources {
			break
		}
		if id := asffText(r, asffMaxResourceID); id != "" {
			out = append(out, ASFFResource{Type: "Other", ID: id})
		}
	}
	return out
}

// firstURL returns the first reference that httpsURL accepts, or "".
func firstURL(refs []string) string {
	for _, r := range refs {
		if httpsURL(r) {
			return r
		}
	}
	return ""
}

// httpsURL reports whether s is an absolute https URL of at most 512 bytes made of printable
// ASCII without spaces, quotes or angle brackets: a link that is safe to show and follow.
func httpsURL(s string) bool {
	if len(s) > asffMaxURL || strings.ContainsAny(s, " \"<>\\`") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// marshalASFF encodes one finding without HTML escaping (it would multiply the size of < and >
// by six for nothing) and checks it against the per-finding size cap.
func marshalASFF(a ASFFFinding) ([]byte, error) {
	if a.ID == "" || measure(a.ID, utf16Width) > asffMaxID {
		return nil, fmt.Errorf("%w: id %q must have 1 to %d characters", ErrASFFFinding, truncate(a.ID, 80, runeWidth, ellipsis), asffMaxID)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encode ASFF finding %s: %w", a.ID, err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > ASFFMaxFindingBytes {
		return nil, fmt.Errorf("%w: finding %s is %d bytes, over the %d-byte cap", ErrASFFFinding, a.ID, len(b), ASFFMaxFindingBytes)
	}
	return b, nil
}

// ASFFBatch renders a Security Hub BatchImportFindings request body, {"Findings":[...]}, for at
// most ASFFMaxBatch findings. It fails when ctx is invalid, when a finding has no usable id or is
// over the size cap, or when there are too many findings (use ASFFBatches).
func ASFFBatch(findings []finding.Finding, ctx ASFFContext) ([]byte, error) {
	if err := ctx.Validate(); err != nil {
		return nil, err
	}
	if len(findings) > ASFFMaxBatch {
		return nil, fmt.Errorf("%w: %d findings in one request, at most %d", ErrASFFFinding, len(findings), ASFFMaxBatch)
	}
	var b bytes.Buffer
	b.WriteString(`{"Findings":[`)
	for i, f := range findings {
		one, err := marshalASFF(ASFF(f, ctx))
		if err != nil {
			return nil, fmt.Errorf("render finding %d as ASFF: %w", i, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(one)
	}
	b.WriteString(`]}`)
	return b.Bytes(), nil
}

// ASFFBatches splits findings into BatchImportFindings request bodies of at most ASFFMaxBatch
// findings each, in order. No findings give no requests.
func ASFFBatches(findings []finding.Finding, ctx ASFFContext) ([][]byte, error) {
	var out [][]byte
	for start := 0; start < len(findings); start += ASFFMaxBatch {
		end := min(start+ASFFMaxBatch, len(findings))
		b, err := ASFFBatch(findings[start:end], ctx)
		if err != nil {
			return nil, fmt.Errorf("render ASFF request for findings %d to %d: %w", start, end-1, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// ASFFNamespaces are the finding type namespaces Security Hub defines, with their categories.
var ASFFNamespaces = map[string][]string{
	"Software and Configuration Checks": {"Vulnerabilities", "AWS Security Best Practices", "Industry and Regulatory Standards"},
	"TTPs": {"Initial Access", "Execution", "Persistence", "Privilege Escalation", "Defense Evasion",
		"Credential Access", "Discovery", "Lateral Movement", "Collection", "Command and Control"},
	"Effects":                        {"Data Exposure", "Data Exfiltration", "Data Destruction", "Denial of Service", "Resource Consumption"},
	"Unusual Behaviors":              {"Application", "Network Flow", "IP address", "User", "VM", "Container", "Serverless", "Process", "Database", "Data"},
	"Sensitive Data Identifications": {"PII", "Passwords", "Legal", "Financial", "Security", "Business"},
}

// CheckASFFType checks a finding type's form, namespace/category[/classifier], with a namespace
// and a category Security Hub defines.
func CheckASFFType(t string) error {
	parts := strings.Split(t, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[len(parts)-1] == "" {
		return fmt.Errorf("ASFF type %q is not namespace/category[/classifier]", t)
	}
	cats, ok := ASFFNamespaces[parts[0]]
	if !ok {
		return fmt.Errorf("ASFF type %q: %q is not a Security Hub namespace", t, parts[0])
	}
	if !slices.Contains(cats, parts[1]) {
		return fmt.Errorf("ASFF type %q: %q is not a category of %s", t, parts[1], parts[0])
	}
	return nil
}
