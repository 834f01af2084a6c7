//go:build linux

package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// The fault-injection run: every sample event, replayed in rounds with fresh event ids, plus
// duplicates, through the real functions while the services fail.
const (
	faultRounds      = 4    // each sample event is sent once per round (rounds after the first with fresh ids)
	faultDuplicateOf = 5    // every 5th event is sent a second time, as EventBridge may
	faultSNSFailure  = 0.3  // SNS answers this fraction of Publish calls with 500 InternalError
	faultOrgThrottle = 0.5  // Organizations throttles this fraction of calls
	faultHubFailure  = 0.25 // Security Hub reports this fraction of imported findings failed
	faultSeed        = 20261126
	// asyncRetries: Lambda retries a failed asynchronous invocation twice, then sends the event
	// with its error to the on-failure destination.
	asyncRetries = 2
	// Emulators per evaluator function, and notifier pairs (each finding event goes to both
	// notifiers of a pair at once).
	evaluatorsPerFunction = 4
	notifierPairs         = 3
	// shortTimeout is the function timeout (seconds) of the emulator that times out.
	shortTimeout = 3
)

// TestFaultInjection runs at least 500 events through the functions under the emulator while SNS
// fails 30% of publishes, Organizations throttles half the calls, Security Hub fails a quarter
// of the findings (FailedCount), two notifiers race on every finding event (conditional writes
// in DynamoDB decide), and one function times out. Invocations follow Lambda's asynchronous
// semantics: an invocation that returns an error or times out is retried twice, then recorded
// in the on-failure list with its error. Every finding put on the bus must then reach each of
// its channels exactly once, or be in the on-failure list with its reason: zero lost, zero
// duplicated.
func TestFaultInjection(t *testing.T) {
	start := time.Now()
	proxy := &failingSNS{rate: faultSNSFailure, rng: rand.New(rand.NewPCG(faultSeed, 1))}
	h := setupWith(t, setupOptions{snsEndpoint: proxy.start})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h.resetState(ctx, t)
	if _, err := h.sns.drain(h.alerts.queueURL); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sns.drain(h.chat.queueURL); err != nil {
		t.Fatal(err)
	}

	r := &faultRun{h: h, pools: map[string]*pool{}}
	for _, fn := range []string{function.RootActivity, function.SCPGuard, function.Onboarding} {
		r.pools[fn] = r.newPool(t, fn, evaluatorsPerFunction, h.env)
	}
	notifiers := r.newPool(t, function.Notifier, 2*notifierPairs, h.env)
	events := faultEvents(t)
	opener, sessionCalls := faultSession(t, h.mgmt)
	events = append(append(events, opener), sessionCalls...)
	busStart, hubStart := len(h.fake.Events()), len(h.fake.Findings())
	defer func() {
		if t.Failed() {
			t.Logf("on-failure list:\n%s", r.onFailureText())
		}
	}()

	// One function times out: root-activity's first attempt at the first event runs in an
	// environment with a 3 s timeout while the fake Organizations holds its first
	// DescribeAccount call for 8 s. Lambda retries it in a fresh environment.
	timeoutEnv := withEnv(h.env, "AWS_LAMBDA_FUNCTION_TIMEOUT", fmt.Sprint(shortTimeout))
	slow := startLambda(t, h.rie, function.RootActivity+"-short-timeout", h.bins[function.RootActivity], timeoutEnv)
	t.Cleanup(slow.proc.stop)
	first := slices.IndexFunc(events, func(e faultEvent) bool {
		return slices.Contains(e.evaluatedBy, function.RootActivity) && e.accountKnown
	})
	if first < 0 {
		t.Fatal("no root event for a known account among the samples")
	}
	h.fake.Delay(awsfake.Organizations, "DescribeAccount", (shortTimeout+5)*time.Second, 1)
	r.evaluate(ctx, events[first], map[string]*lambdaFn{function.RootActivity: slow})
	h.fake.ClearFaults()
	slow.proc.stop()
	if r.timeouts == 0 {
		t.Fatalf("the short-timeout function did not time out:\n%s", slow.proc.out.String())
	}

	// Everything else, concurrently, with the faults on.
	h.fake.ThrottleFraction(awsfake.Organizations, faultOrgThrottle)
	h.fake.FailFindingsFraction(faultHubFailure)
	proxy.enable(true)
	var wg sync.WaitGroup
	queue := make(chan faultEvent)
	for range evaluatorsPerFunction * len(r.pools) {
		wg.Go(func() {
			for e := range queue {
				r.evaluate(ctx, e, nil)
			}
		})
	}
	for i, e := range events {
		if i != first {
			queue <- e
		}
	}
	close(queue)
	wg.Wait()
	evaluated := time.Now()

	bus := h.fake.Events()[busStart:]
	findings := h.checkBus(t, bus)
	// One finding cannot be emailed or chatted at all (every Publish of it fails): it must end in
	// the on-failure list with its reason, and still reach Security Hub once.
	poison := findings[slices.IndexFunc(findings, func(f finding.Finding) bool { return f.Severity >= minChat && !f.Canary && len(f.Calls) == 0 })]
	proxy.setPoison(poison.ID)
	type pair struct{ a, b *lambdaFn }
	pairs := make(chan pair, notifierPairs)
	for i := range notifierPairs {
		pairs <- pair{notifiers.all[2*i], notifiers.all[2*i+1]}
	}
	// The root session's first alert is delivered before its other calls arrive.
	isOpener := func(e awsfake.Event) bool {
		var f finding.Finding
		return json.Unmarshal([]byte(e.Detail), &f) == nil && f.EventID == opener.id
	}
	for i, e := range bus {
		if isOpener(e) {
			var f finding.Finding
			_ = json.Unmarshal([]byte(e.Detail), &f)
			r.async(ctx, notifiers.all[0], nil, function.Notifier, fmt.Sprintf("bus event %d", i), f.ID+" "+f.Severity.String(), busEvent(e, i))
		}
	}
	for i, e := range bus {
		if isOpener(e) {
			continue
		}
		p := <-pairs
		raw := busEvent(e, i)
		var f finding.Finding
		_ = json.Unmarshal([]byte(e.Detail), &f) // checkBus reported a detail that is not a finding
		key := deliveryKey(f.ID, f.Severity.String(), f.Status == finding.StatusResolved)
		wg.Go(func() {
			defer func() { pairs <- p }()
			var both sync.WaitGroup
			for _, l := range []*lambdaFn{p.a, p.b} {
				both.Go(func() { r.async(ctx, l, nil, function.Notifier, fmt.Sprintf("bus event %d", i), key, raw) })
			}
			both.Wait()
		})
	}
	wg.Wait()
	proxy.enable(false)
	h.fake.ClearFaults()

	r.verify(t, findings, h.fake.Findings()[hubStart:], sessionCalls)
	poisonKey := deliveryKey(poison.ID, poison.Severity.String(), poison.Status == finding.StatusResolved)
	if !slices.ContainsFunc(r.onFailure, func(f failure) bool {
		return f.key == poisonKey && strings.Contains(f.err, "deliver to alerts") && strings.Contains(f.err, "deliver to chat")
	}) {
		t.Errorf("the finding SNS always refused (%s) is not in the on-failure list with its reason:\n%s", poisonKey, r.onFailureText())
	}
	throttled := 0
	for _, c := range h.fake.CallLog() {
		if c.Service == awsfake.Organizations && c.Error == "TooManyRequestsException" {
			throttled++
		}
	}
	waits, dups, partial := 0, 0, 0
	for _, l := range notifiers.all {
		out := l.proc.out.String()
		waits += strings.Count(out, `"msg":"waited for another invocation's claim"`)
		dups += strings.Count(out, `"msg":"not sent: already delivered"`)
		partial += strings.Count(out, "partial failure")
	}
	r.report([]string{
		fmt.Sprintf("faults: SNS Publish failed %d of %d (%.0f%%), Organizations throttled %d calls, Security Hub partial failures %d, notifier claim waits (races) %d, timeouts %d",
			proxy.failed, proxy.publishes, 100*float64(proxy.failed)/float64(max(proxy.publishes, 1)), throttled, partial, waits, r.timeouts),
		fmt.Sprintf("events %d (%d rounds of the samples and %d duplicates), evaluator invocations %d, finding events on the bus %d, distinct findings %d",
			len(events), faultRounds, dupCount(events), r.invocations[false], len(bus), r.distinct),
		fmt.Sprintf("notifier invocations %d (two per finding event), sends skipped as already delivered %d", r.invocations[true], dups),
		fmt.Sprintf("retries %d, on-failure entries %d (evaluators %d, notifiers %d)", r.retries, len(r.onFailure), r.failures(false), r.failures(true)),
		r.deliveryLine(),
		fmt.Sprintf("time: evaluation %s, delivery %s, total %s", evaluated.Sub(start).Round(time.Second), time.Since(evaluated).Round(time.Second), time.Since(start).Round(time.Second)),
	})
	if len(events) < 500 {
		t.Errorf("%d events, want at least 500", len(events))
	}
	if proxy.failed == 0 || throttled == 0 || partial == 0 || waits+dups == 0 {
		t.Errorf("a fault was never injected (SNS failures %d, throttled %d, Security Hub partial failures %d, races %d): the test proves nothing", proxy.failed, throttled, partial, waits+dups)
	}
}

// faultEvent is one event to send, with the functions the routing table sends it to.
type faultEvent struct {
	raw       []byte
	id        string
	functions []string
	// evaluatedBy are the functions that evaluate rules on it (the others take it only to drop
	// cached organization facts).
	evaluatedBy []string
	// accountKnown: the event's account is in the sample organization.
	accountKnown bool
	duplicate    bool
}

func dupCount(events []faultEvent) int {
	n := 0
	for _, e := range events {
		if e.duplicate {
			n++
		}
	}
	return n
}

// faultEvents returns every sample event once per round, with fresh event ids after the first
// round, and every faultDuplicateOf-th event a second time, in a seeded random order.
func faultEvents(t *testing.T) []faultEvent {
	t.Helper()
	var base [][]byte
	for _, f := range sampleFiles(t) {
		base = append(base, readEvents(t, f)...)
	}
	known := map[string]bool{}
	var doc struct {
		Accounts []struct {
			ID string `json:"id"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(events.Org(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range doc.Accounts {
		known[a.ID] = true
	}
	var out []faultEvent
	for round := range faultRounds {
		for i, raw := range base {
			if round > 0 {
				raw = freshID(t, raw, fmt.Sprintf("r%d-", round))
			}
			ev, err := cloudtrail.Decode(raw)
			if err != nil {
				t.Fatalf("sample event: %v", err)
			}
			fns := routing.FunctionsFor(handler.Fields(ev))
			e := faultEvent{raw: raw, id: ev.ID(), functions: fns, accountKnown: known[ev.AccountID()],
				evaluatedBy: slices.DeleteFunc(slices.Clone(fns), func(fn string) bool { return !routing.Evaluates(fn, handler.Fields(ev)) })}
			if len(e.functions) == 0 {
				continue
			}
			out = append(out, e)
			if (round*len(base)+i)%faultDuplicateOf == 0 {
				d := e
				d.duplicate = true
				out = append(out, d)
			}
		}
	}
	rng := rand.New(rand.NewPCG(faultSeed, 2))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// freshID gives an event new ids (the envelope's and the CloudTrail record's), keeping every
// other field, numbers included, as it was.
func freshID(t *testing.T, raw []byte, prefix string) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if id, ok := ev["id"].(string); ok {
		ev["id"] = prefix + id
	}
	if detail, ok := ev["detail"].(map[string]any); ok {
		if id, ok := detail["eventID"].(string); ok {
			detail["eventID"] = prefix + id
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func withEnv(env []string, key, value string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(out, key+"="+value)
}

// pool is a set of emulators of one function; an emulator runs one invocation at a time.
type pool struct {
	free chan *lambdaFn
	all  []*lambdaFn
}

func (r *faultRun) newPool(t *testing.T, fn string, n int, env []string) *pool {
	t.Helper()
	p := &pool{free: make(chan *lambdaFn, n)}
	for i := range n {
		l := startLambda(t, r.h.rie, fmt.Sprintf("%s-%d", fn, i), r.h.bins[fn], env)
		t.Cleanup(func() { l.proc.stop() })
		p.all = append(p.all, l)
		p.free <- l
	}
	return p
}

// failure is one entry of the on-failure list: an invocation that failed three times.
type failure struct {
	function, event string
	key             string // "finding-id SEVERITY" for a notifier invocation
	err             string
}

// faultRun is the state of the run.
type faultRun struct {
	h     *e2e
	pools map[string]*pool

	mu          sync.Mutex
	invocations map[bool]int // by "is notifier"
	retries     int
	timeouts    int
	onFailure   []failure
	distinct    int
	expected    [3]int
	lines       []string
}

// evaluate sends one event to each function the routing table names, with Lambda's
// asynchronous semantics. first, when set, is the emulator of a function's first attempt.
func (r *faultRun) evaluate(ctx context.Context, e faultEvent, first map[string]*lambdaFn) {
	for _, fn := range e.functions {
		r.async(ctx, first[fn], r.pools[fn], fn, e.id, "", e.raw)
	}
}

// async invokes a function as Lambda invokes it asynchronously: an error or a timeout is
// retried twice (a timed-out environment is replaced), then the event goes to the on-failure
// list with its last error. The first attempt runs on first when set, the retries on an
// emulator of p (on first again when p is nil).
func (r *faultRun) async(ctx context.Context, first *lambdaFn, p *pool, fn, event, key string, raw []byte) {
	var last error
	for attempt := 0; attempt <= asyncRetries; attempt++ {
		l, pooled := first, false
		if l == nil || attempt > 0 && p != nil {
			l, pooled = <-p.free, true
		}
		err := l.invoke(ctx, raw)
		var te *timeoutError
		timedOut := errors.As(err, &te)
		if timedOut && (pooled || p == nil) {
			// Lambda does not reuse an environment whose function timed out.
			if rerr := l.restart(); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		if pooled {
			p.free <- l
		}
		r.mu.Lock()
		if r.invocations == nil {
			r.invocations = map[bool]int{}
		}
		r.invocations[fn == function.Notifier]++
		if attempt > 0 {
			r.retries++
		}
		if timedOut {
			r.timeouts++
		}
		r.mu.Unlock()
		if err == nil {
			return
		}
		last = err
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
	r.mu.Lock()
	r.onFailure = append(r.onFailure, failure{function: fn, event: event, key: key, err: last.Error()})
	r.mu.Unlock()
}

func (r *faultRun) failures(notifier bool) int {
	n := 0
	for _, f := range r.onFailure {
		if (f.function == function.Notifier) == notifier {
			n++
		}
	}
	return n
}

func (r *faultRun) onFailureText() string {
	var b strings.Builder
	for _, f := range r.onFailure {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", f.function, f.event, f.key, f.err)
	}
	return b.String()
}

var channelNames = [3]string{"alerts", "chat", "securityhub"}

// verify counts the deliveries of every finding put on the bus, per channel, and fails the test
// on a finding lost (not delivered, not in the on-failure list) or delivered twice.
func (r *faultRun) verify(t *testing.T, findings []finding.Finding, imported [][]byte, sessionCalls []faultEvent) {
	t.Helper()
	mins := [3]finding.Severity{minEmail, minChat, minSecHub}
	// A root session's finding is delivered once per growth of its write calls (checkSessions);
	// every other finding once per channel and severity.
	sessions := sessionIDs(findings)
	sessionGot := sessionDeliveries{}
	want := map[string]finding.Finding{}
	for _, f := range findings {
		if !sessions[f.ID] {
			want[deliveryKey(f.ID, f.Severity.String(), f.Status == finding.StatusResolved)] = f
		}
	}
	r.distinct = len(want)
	got := map[string][3]int{}
	add := func(ch int, key string) {
		c := got[key]
		c[ch]++
		got[key] = c
	}
	emails, err := r.h.sns.drain(r.h.alerts.queueURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range emails {
		id := ""
		for _, l := range strings.Split(m.Message, "\n") {
			if v, ok := strings.CutPrefix(l, "Finding id: "); ok {
				id = v
			}
		}
		if sessions[id] {
			sessionGot.add(0, id, m.MessageAttributes["newCalls"]["Value"])
			continue
		}
		add(0, deliveryKey(id, m.MessageAttributes["severity"]["Value"], strings.Contains(m.Subject, "RESOLVED")))
	}
	chats, err := r.h.sns.drain(r.h.chat.queueURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range chats {
		var c struct {
			ID       string `json:"id"`
			Metadata struct {
				AdditionalContext map[string]string `json:"additionalContext"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(m.Message), &c); err != nil {
			t.Errorf("chat message is not JSON: %v", err)
			continue
		}
		id, resolved := strings.CutSuffix(c.ID, "-resolved")
		if sessions[id] {
			sessionGot.add(1, id, m.MessageAttributes["newCalls"]["Value"])
			continue
		}
		add(1, deliveryKey(id, c.Metadata.AdditionalContext["severity"], resolved))
	}
	for _, raw := range imported {
		var a struct {
			Id          string
			Severity    struct{ Label string }
			RecordState string
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Errorf("imported finding is not JSON: %v", err)
			continue
		}
		if sessions[a.Id] {
			sessionGot.add(2, a.Id, hubNewCalls(raw))
			continue
		}
		add(2, deliveryKey(a.Id, a.Severity.Label, a.RecordState == "ARCHIVED"))
	}

	failed := map[string]string{}
	failedIDs := map[string]bool{}
	for _, f := range r.onFailure {
		if f.key != "" {
			failed[f.key] = f.err
			id, _, _ := strings.Cut(f.key, " ")
			failedIDs[id] = true
		}
	}
	var lost, duplicated, unexpected []string
	var inFailure [3]int
	for key, f := range want {
		for ch := range 3 {
			if f.Severity < mins[ch] || f.Canary {
				if got[key][ch] > 0 {
					unexpected = append(unexpected, fmt.Sprintf("%s to %s (below its minimum)", key, channelNames[ch]))
				}
				continue
			}
			r.expected[ch]++
			switch n := got[key][ch]; {
			case n == 1:
			case n == 0 && failed[key] != "":
				inFailure[ch]++
			case n == 0:
				lost = append(lost, key+" on "+channelNames[ch])
			default:
				duplicated = append(duplicated, fmt.Sprintf("%s on %s: %d times", key, channelNames[ch], n))
			}
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			unexpected = append(unexpected, key+" (not a finding on the bus)")
		}
	}
	var sum [3]int
	for _, c := range got {
		for ch := range 3 {
			sum[ch] += c[ch]
		}
	}
	sLost, sDup, sUnexpected, sDelivered, sExpected := r.checkSessions(findings, sessionGot, failedIDs)
	lost, duplicated, unexpected = append(lost, sLost...), append(duplicated, sDup...), append(unexpected, sUnexpected...)
	for ch := range 3 {
		sum[ch] += sDelivered[ch]
		r.expected[ch] += sExpected[ch]
	}
	line, updates := r.sessionLine(findings, sessionGot, sessionCalls, len(sLost), len(sDup))
	r.lines = append(r.lines, line)
	if updates != [3]int{len(sessionWrites), len(sessionWrites), len(sessionWrites)} {
		t.Errorf("the 20-call session was updated %v times (alerts, chat, securityhub), want %d on each channel", updates, len(sessionWrites))
	}
	sort.Strings(lost)
	sort.Strings(duplicated)
	sort.Strings(unexpected)
	r.lines = append(r.lines, fmt.Sprintf("deliveries: alerts %d of %d expected (%d in the on-failure list), chat %d of %d (%d), securityhub %d of %d (%d)",
		sum[0], r.expected[0], inFailure[0], sum[1], r.expected[1], inFailure[1], sum[2], r.expected[2], inFailure[2]),
		fmt.Sprintf("lost %d, duplicated %d", len(lost), len(duplicated)))
	if len(lost) > 0 {
		t.Errorf("%d deliveries lost (neither delivered nor in the on-failure list): %v", len(lost), lost)
	}
	if len(duplicated) > 0 {
		t.Errorf("%d deliveries duplicated: %v", len(duplicated), duplicated)
	}
	if len(unexpected) > 0 {
		t.Errorf("unexpected deliveries: %v", unexpected)
	}
	for _, f := range r.onFailure {
		if strings.TrimSpace(f.err) == "" {
			t.Errorf("on-failure entry %+v has no reason", f)
		}
	}
}

func (r *faultRun) deliveryLine() string { return strings.Join(r.lines, "\n") }

// report prints the counts on standard output (shown by go test -v, or when the package is
// tested alone), each line starting "fault injection:".
func (r *faultRun) report(lines []string) {
	for _, l := range strings.Split(strings.Join(lines, "\n"), "\n") {
		fmt.Println("fault injection: " + l)
	}
}

// failingSNS is a reverse proxy in front of goaws that answers a seeded random fraction of the
// Publish calls with 500 InternalError, as SNS does when it fails (goaws cannot be told to fail),
// and every Publish of one poisoned finding. The failed calls never reach goaws.
type failingSNS struct {
	rate float64
	mu   sync.Mutex
	rng  *rand.Rand
	on   bool

	publishes, failed int
	poison            string // a finding id whose every Publish fails
	proxy             *httputil.ReverseProxy
}

func (p *failingSNS) setPoison(findingID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.poison = findingID
}

func (p *failingSNS) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p.proxy = httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (p *failingSNS) enable(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = on
}

func (p *failingSNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	if form.Get("Action") == "Publish" {
		p.mu.Lock()
		fail := p.on && p.rng.Float64() < p.rate || p.poison != "" && strings.Contains(form.Get("Message"), p.poison)
		if p.on {
			p.publishes++
		}
		if fail {
			p.failed++
		}
		p.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type>`+
				`<Code>InternalError</Code><Message>Internal error (injected by the rootguard fault test)</Message></Error>`+
				`<RequestId>fault-test</RequestId></ErrorResponse>`)
			return
		}
	}
	p.proxy.ServeHTTP(w, r)
}

// deliveryKey names one delivery of a finding: its id and severity, and whether it is the
// finding's resolution (delivered once more, apart from the finding).
func deliveryKey(id, severity string, resolved bool) string {
	if resolved {
		return id + " " + severity + " resolved"
	}
	return id + " " + severity
}
