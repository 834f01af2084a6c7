package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/function"
)

// The templates, not the functions' code, are under test: the synthesized app uses placeholder
// bootstrap files. Synthesis is slow (seconds), so each configuration is synthesized once per run.

// workDir holds the placeholder assets (assetDir) and the cloud assemblies of the run.
var workDir, assetDir string

func TestMain(m *testing.M) {
	var err error
	if workDir, err = os.MkdirTemp("", "rootguard-infra-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir := filepath.Join(workDir, "assets")
	for _, fn := range function.Names() {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err == nil {
			err = os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("placeholder "+fn+"\n"), 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	assetDir = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// sampleOrg is what the tests need of events/org.json, the organization the samples happen in.
type sampleOrg struct {
	Organization struct {
		ID                  string `json:"id"`
		ManagementAccountID string `json:"managementAccountId"`
		RootID              string `json:"rootId"`
	} `json:"organization"`
}

func loadSampleOrg(t *testing.T) sampleOrg {
	t.Helper()
	var o sampleOrg
	err := json.Unmarshal(events.Org(), &o)
	if err != nil || o.Organization.ManagementAccountID == "" {
		t.Fatalf("read events/org.json (the sample organization): %v", err)
	}
	return o
}

// exampleContext is the context documented in cdk.json.
func exampleContext(t *testing.T) map[string]any {
	t.Helper()
	var doc struct {
		Context map[string]any `json:"context"`
	}
	data, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil || len(doc.Context) == 0 {
		t.Fatalf("read the example context of cdk.json: %v", err)
	}
	return doc.Context
}

// A variant is one configuration under test.
type variant struct {
	name      string
	overrides map[string]any
}

var (
	// auditRole: the default mode, every channel on.
	auditRole = variant{"audit-role", map[string]any{
		CtxRootCredentialsMode: ModeAuditRole, CtxChat: true, CtxSecurityHub: true,
	}}
	// assumeRoot: centralised root access, chat and Security Hub off, a cron schedule.
	assumeRoot = variant{"assume-root", map[string]any{
		CtxRootCredentialsMode: ModeAssumeRoot, CtxChat: false, CtxSecurityHub: "false",
		CtxAuditSchedule: "cron(15 */4 * * ? *)", CtxAuditInterval: "4h",
		CtxReportPresign: "72h", CtxReportRetentionDays: 30,
	}}
	variants = []variant{auditRole, assumeRoot}
)

// synthesized is one synthesized app.
type synthesized struct {
	cfg       Config
	stacks    *Stacks
	templates map[string]map[string]any // by stack name; the member forwarder by its stack name
	err       error
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

// synth builds the app of a variant, in the sample organization (so that sample events come from
// its accounts), forwarding from the regions the samples use.
func synth(t *testing.T, v variant) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[v.name]; ok {
		if s.err != nil {
			t.Fatal(s.err)
		}
		return s
	}
	s := &synthesized{templates: map[string]map[string]any{}}
	synthCache[v.name] = s
	org := loadSampleOrg(t)
	ctx := exampleContext(t)
	ctx[CtxManagementAccount] = org.Organization.ManagementAccountID
	ctx[CtxOrganizationID] = org.Organization.ID
	ctx[CtxOrganizationRootID] = org.Organization.RootID
	ctx[CtxForwardRegions] = []any{"eu-west-1", "us-west-2"}
	ctx[CtxAssetDir] = assetDir
	for k, val := range v.overrides {
		ctx[k] = val
	}
	out := filepath.Join(workDir, "cdk.out-"+v.name)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(out)})
	s.cfg, s.err = ConfigFromApp(app)
	if s.err == nil {
		s.stacks, s.err = Build(app, s.cfg)
	}
	if s.err != nil {
		t.Fatalf("synthesize %s: %v", v.name, s.err)
	}
	for _, st := range s.deployable() {
		s.templates[*st.StackName()] = *assertions.Template_FromStack(st, nil).ToJSON()
	}
	var member map[string]any
	if s.err = json.Unmarshal([]byte(s.stacks.MemberTemplateBody), &member); s.err != nil {
		t.Fatalf("member template body: %v", s.err)
	}
	s.templates[*s.stacks.MemberForwarder.StackName()] = member
	return s
}

// deployable lists the app's deployed stacks.
func (s *synthesized) deployable() []awscdk.Stack {
	return append(append([]awscdk.Stack{s.stacks.Central.Stack}, s.stacks.Management...), s.stacks.MemberStackSet)
}

// allStacks adds the member forwarder (deployed by the StackSet).
func (s *synthesized) allStacks() []awscdk.Stack {
	return append(s.deployable(), s.stacks.MemberForwarder)
}

func (s *synthesized) central() map[string]any { return s.templates[CentralStackName] }
func (s *synthesized) member() map[string]any {
	return s.templates[*s.stacks.MemberForwarder.StackName()]
}
func (s *synthesized) management(region string) map[string]any {
	return s.templates[ManagementStackName(region)]
}
