package infra

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagFindings returns cdk-nag's unsuppressed AwsSolutions errors and warnings on a stack.
func nagFindings(stack awscdk.Stack) []string {
	a := assertions.Annotations_FromStack(stack)
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var out []string
	for _, found := range []*[]*cxapi.SynthesisMessage{a.FindError(jsii.String("*"), match), a.FindWarning(jsii.String("*"), match)} {
		for _, m := range *found {
			b, _ := json.Marshal(m.Entry.Data)
			out = append(out, *m.Id+": "+string(b))
		}
	}
	return out
}

// TestNagAwsSolutions: no unsuppressed AwsSolutions error or warning on any stack, every
// suppression has a specific reason, and the checks did run (they flag a bad queue).
func TestNagAwsSolutions(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			for _, st := range s.allStacks() {
				if f := nagFindings(st); len(f) > 0 {
					t.Errorf("%s: %d unsuppressed cdk-nag findings:\n%s", *st.StackName(), len(f), strings.Join(f, "\n"))
				}
			}
			suppressions := 0
			for name, tpl := range s.templates {
				res, _ := tpl["Resources"].(map[string]any)
				for id, raw := range res {
					rules, _ := get(raw, "Metadata", "cdk_nag", "rules_to_suppress").([]any)
					for _, rule := range rules {
						suppressions++
						reason, _ := get(rule, "reason").(string)
						if len(reason) < 40 {
							t.Errorf("%s/%s: suppression %v has no specific reason", name, id, rule)
						}
					}
				}
			}
			if suppressions == 0 {
				t.Error("no cdk-nag suppression metadata in the templates: the checks may not have run")
			}
		})
	}
	t.Run("the checks run", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
		awssqs.NewQueue(stack, jsii.String("Unencrypted"), &awssqs.QueueProps{Encryption: awssqs.QueueEncryption_UNENCRYPTED})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
		f := nagFindings(stack)
		if !strings.Contains(strings.Join(f, "\n"), "AwsSolutions-SQS") {
			t.Errorf("an unencrypted queue without a DLQ raised %v, want AwsSolutions-SQS findings", f)
		}
	})
}
