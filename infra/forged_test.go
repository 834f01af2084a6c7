package infra

import (
	"strings"
	"testing"
)

// forgedFolder holds sample events AWS did not write (events/README.md, "Forged events").
const forgedFolder = "forged"

// checkForged: a forged sample reaches no function on the central bus. The one exception is an
// aws.* event whose account differs from its detail.recipientAccountId: no PutEvents can give
// an event an aws.* source, and an event pattern cannot compare two fields, so the evaluators
// refuse it themselves (functions/internal/handler TestForgedSamplesRefused).
func checkForged(t *testing.T, at string, ev map[string]any, reached []string) {
	t.Helper()
	if len(reached) == 0 {
		return
	}
	source, _ := ev["source"].(string)
	account, _ := ev["account"].(string)
	recipient, _ := get(ev, "detail", "recipientAccountId").(string)
	if strings.HasPrefix(source, "aws.") && account != recipient {
		return
	}
	t.Errorf("%s: a forged event (source %q, account %s) reaches %v on the central bus", at, source, account, reached)
}
