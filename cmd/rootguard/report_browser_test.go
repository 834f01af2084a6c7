package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/org"
)

// reportFlags are make report's flags (the demo's), at a fixed time.
var reportFlags = []string{"--org", "../../events/org.json", "--stax-domains", "stax.example",
	"--trusted-principals", "arn:aws:iam::111111111111:role/stax-guardrail-automation", "--at", "2026-12-01T09:00:00Z"}

// screenshotDir is where the browser test saves its screenshots (build/ is ignored by git).
const screenshotDir = "../../build/test-output/report"

// hostileEvents writes a sample whose event text tries to run script and add markup in the
// report: script tags, an image with an onerror handler, an SVG onload, attribute breakouts and
// bidirectional overrides.
func hostileEvents(t *testing.T) string {
	t.Helper()
	raw, err := events.Read("ROOT-SIGNIN-STAX-MEMBER/CRITICAL.sandbox-root-login-without-mfa.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["userAgent"] = `<script>window.__rootguardPwned=1</script><img src=x onerror="window.__rootguardPwned=2"> "><svg onload=window.__rootguardPwned=3> ` +
		"\u202egnp.exe\u202c \u2066isolate\u2069 <style>body{display:none}</style>"
	detail["sourceIPAddress"] = `203.0.113.66"><script>alert(1)</script>`
	detail["eventID"] = "hostile-report-0001"
	detail["userIdentity"].(map[string]any)["arn"] = `arn:aws:iam::444444444444:root<iframe src="https://evil.example/">`
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hostile.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// findBrowser returns Chromium's path: $ROOTGUARD_CHROMIUM, else chromium on the PATH or the
// usual names. make test installs the Debian package first (make browser).
func findBrowser() string {
	if p := os.Getenv("ROOTGUARD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestReportInBrowser opens the report of events/ (plus a hostile sample) in headless Chromium:
// no network request, no console error, the counts of the JSON findings, working filters and
// sorting, inert hostile text, every sample account and exception shown; it saves screenshots
// at desktop and phone widths.
func TestReportInBrowser(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium found (install the Debian package chromium: make browser, or set ROOTGUARD_CHROMIUM); the browser test needs one")
	}
	hostile := hostileEvents(t)
	out := filepath.Join(t.TempDir(), "report.html")
	args := append(append([]string{"report"}, reportFlags...), "--quiet", "--out", out, "../../events", hostile)
	if code, _, errOut := runCLI(t, nil, "", args...); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}

	// The same findings as JSON: the replay of the same inputs, then the audit at the same time.
	want := map[string]int{}
	total := 0
	var critical, ruleSigninStax, acct111 int
	for _, a := range [][]string{
		{"replay", "--format", "json", "--quiet", "../../events", hostile},
		{"audit", "--format", "json"},
	} {
		a = append(a[:1], append(append([]string{}, reportFlags...), a[1:]...)...)
		if a[0] == "replay" {
			a = slicesWithout(a, "--at", "2026-12-01T09:00:00Z")
		}
		code, jsonOut, errOut := runCLI(t, nil, "", a...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", a[0], code, errOut)
		}
		sc := bufio.NewScanner(strings.NewReader(jsonOut))
		sc.Buffer(nil, 1<<20)
		// A resolution repeats a finding's id (status resolved): the report shows its latest
		// state in the finding's row, so each id counts once, with its last severity.
		type row struct{ ID, Severity, Rule, AccountID string }
		var rows []row
		index := map[string]int{}
		for sc.Scan() {
			var f row
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			if i, ok := index[f.ID]; ok {
				rows[i] = f
				continue
			}
			index[f.ID] = len(rows)
			rows = append(rows, f)
		}
		for _, f := range rows {
			want[f.Severity]++
			total++
			if f.Severity == "CRITICAL" {
				critical++
			}
			if f.Rule == "ROOT-SIGNIN-STAX-MEMBER" {
				ruleSigninStax++
			}
			if f.AccountID == "111111111111" {
				acct111++
			}
		}
	}
	if total < 50 || critical == 0 || ruleSigninStax == 0 || acct111 == 0 {
		t.Fatalf("the JSON findings look wrong: %d findings, %v", total, want)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()

	pageURL := "file://" + out
	var mu sync.Mutex
	var requests, problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			switch e.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		case *page.EventJavascriptDialogOpening:
			problems = append(problems, "a dialog opened: "+e.Message)
		}
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	defer cancel()
	// The first call starts the browser and must not carry a timeout (it would end the browser).
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium %s: %v", browser, err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[any](expr))
		must(err)
		return v
	}
	str := func(expr string) string { t.Helper(); s, _ := eval(expr).(string); return s }
	num := func(expr string) int { t.Helper(); f, _ := eval(expr).(float64); return int(f) }
	must(chromedp.Do(tctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS("#filters"))))

	// The counts: header totals, table rows and the live count, as the JSON findings say.
	shown := str(`document.getElementById("f-count").textContent`)
	rows := num(`document.querySelectorAll("#ftable tbody tr").length`)
	if rows != total || shown != fmt.Sprintf("Showing %d of %d findings", total, total) {
		t.Errorf("the table has %d rows and says %q; the JSON has %d findings", rows, shown, total)
	}
	totals := map[string]string{}
	for _, label := range []string{"findings", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"} {
		totals[label] = str(fmt.Sprintf(`Array.from(document.querySelectorAll(".totals li")).find(li => li.querySelector(".l").textContent === %q).querySelector(".n").textContent`, label))
	}
	if totals["findings"] != fmt.Sprint(total) {
		t.Errorf("header total %q, want %d", totals["findings"], total)
	}
	for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"} {
		if totals[sev] != fmt.Sprint(want[sev]) {
			t.Errorf("header %s: %q, want %d", sev, totals[sev], want[sev])
		}
	}

	// Filtering: by severity, rule and account, and back.
	visible := func(sel, value string) int {
		t.Helper()
		return num(fmt.Sprintf(`(() => { const s = document.querySelector('#filters select[name=%q]'); s.value = %q; s.dispatchEvent(new Event("change")); return document.querySelectorAll("#ftable tbody tr:not([hidden])").length })()`, sel, value))
	}
	if n := visible("sev", "CRITICAL"); n != critical {
		t.Errorf("severity filter CRITICAL shows %d rows, want %d", n, critical)
	}
	if shown := str(`document.getElementById("f-count").textContent`); shown != fmt.Sprintf("Showing %d of %d findings", critical, total) {
		t.Errorf("count after filtering: %q", shown)
	}
	visible("sev", "")
	if n := visible("rule", "ROOT-SIGNIN-STAX-MEMBER"); n != ruleSigninStax {
		t.Errorf("rule filter shows %d rows, want %d", n, ruleSigninStax)
	}
	visible("rule", "")
	if n := visible("acct", "111111111111"); n != acct111 {
		t.Errorf("account filter shows %d rows, want %d", n, acct111)
	}
	must(chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#f-reset"))))
	if n := num(`document.querySelectorAll("#ftable tbody tr:not([hidden])").length`); n != total {
		t.Errorf("after reset %d rows shown, want %d", n, total)
	}

	// Sorting by time: the first row is the earliest.
	must(chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`button[data-sort="time"]`))))
	first := str(`document.querySelector("#ftable tbody tr").dataset.time`)
	earliest := str(`Array.from(document.querySelectorAll("#ftable tbody tr")).map(r => r.dataset.time).sort()[0]`)
	if first != earliest {
		t.Errorf("sorted by time, the first row is %q, want %q", first, earliest)
	}

	// The hostile sample is inert: shown as text, nothing ran, no element was injected.
	pwned := str(`String(window.__rootguardPwned)`)
	scripts := num(`document.scripts.length`)
	injected := num(`document.querySelectorAll("img, iframe, body style, body svg[onload], [onerror], [onload]").length`)
	if pwned != "undefined" || scripts != 1 || injected != 0 {
		t.Errorf("hostile event text ran or injected markup: pwned %s, %d scripts, %d injected elements", pwned, scripts, injected)
	}
	text := str(`document.body.textContent`)
	if !strings.Contains(text, `203.0.113.66"><script>alert(1)</script>`) {
		t.Errorf("the hostile source IP is not shown as text")
	}
	if strings.ContainsAny(text, "\u202e\u202c\u2066\u2069") {
		t.Errorf("a bidirectional control reached the page")
	}

	// Every account of the sample organization, and every exception the findings name.
	snap, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	must(err)
	for _, a := range snap.Doc().Accounts {
		if n := num(fmt.Sprintf(`document.querySelectorAll('#organization [data-account=%q]').length`, a.ID)); n != 1 {
			t.Errorf("account %s is shown %d times in the tree", a.ID, n)
		}
	}
	for _, ex := range []string{"CHG-2041 foundation guardrail maintenance", "trusted principal arn:aws:iam::111111111111:role/stax-guardrail-automation"} {
		if !strings.Contains(text, ex) {
			t.Errorf("exception %q is not shown", ex)
		}
	}

	// Printed: the filters and the navigation are not printed; every row and the header are.
	if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := str(`[getComputedStyle(document.getElementById("filters")).display, getComputedStyle(document.querySelector("nav.toc")).display, String(document.querySelectorAll("#ftable tbody tr:not([hidden])").length)].join(" ")`); got != fmt.Sprintf("none none %d", total) {
		t.Errorf("print media: filters, navigation display and rows shown = %q, want \"none none %d\"", got, total)
	}
	if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	// Screenshots: desktop (top and full page) and phone widths.
	must(os.MkdirAll(screenshotDir, 0o755))
	shots := []struct {
		name          string
		width, height int64
		mobile, full  bool
	}{
		{"desktop-top.png", 1280, 1000, false, false},
		{"desktop.png", 1280, 900, false, true},
		{"phone.png", 390, 844, true, true},
	}
	for _, s := range shots {
		var vopts []chromedp.EmulateViewportOption
		if s.mobile {
			vopts = append(vopts, chromedp.EmulateMobile)
		}
		must(chromedp.Do(tctx, chromedp.EmulateViewport(s.width, s.height, vopts...)))
		eval(`window.scrollTo(0, 0); 0`)
		capture := chromedp.CaptureScreenshot()
		if s.full {
			capture = chromedp.FullScreenshot(100)
		}
		png, err := chromedp.Run(tctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", s.name, err)
		}
		must(os.WriteFile(filepath.Join(screenshotDir, s.name), png, 0o644))
	}
	must(chromedp.Do(tctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)))
	if wide := str(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 391 && !e.closest("thead")).slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`); wide != "" {
		t.Errorf("at phone width (390 px) the page is wider than the screen: %s", wide)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, u := range requests {
		if u != pageURL {
			t.Errorf("the report made a network request: %s", u)
		}
	}
	if len(requests) == 0 {
		t.Errorf("no request was seen at all: the network listener does not work")
	}
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// slicesWithout removes the flag and its value.
func slicesWithout(args []string, flag, value string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag && i+1 < len(args) && args[i+1] == value {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
