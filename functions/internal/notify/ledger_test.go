package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/testenv/dynalite"
)

// dyn is the package's dynalite, started by the first test that needs it and stopped by
// TestMain; each test has its own table.
var (
	dynOnce sync.Once
	dyn     *dynalite.Server
	dynErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dyn != nil {
		dyn.Stop()
	}
	os.Exit(code)
}

func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	dynOnce.Do(func() { dyn, dynErr = dynalite.New() })
	if dynErr != nil {
		t.Fatalf("dynalite: %v", dynErr)
	}
	name := dynalite.TableName(t.Name())
	dyn.CreateTable(t, name)
	return dyn.Client(), name
}

// fakeClock is a settable clock whose Sleep advances it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

func TestDynamoLedger(t *testing.T) {
	api, table := newTable(t)
	l := &DynamoLedger{API: api, Table: table}
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	key := Key{FindingID: "root-signin-abc", Severity: finding.High}

	c1, err := l.Claim(ctx, key, ChannelAlerts, now, DefaultLease)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	var busy *BusyError
	if _, err := l.Claim(ctx, key, ChannelAlerts, now.Add(time.Second), DefaultLease); !errors.As(err, &busy) || !busy.Until.Equal(now.Add(DefaultLease)) {
		t.Fatalf("second claim while the first holds = %v, want a *BusyError until %s", err, now.Add(DefaultLease))
	}
	cChat, err := l.Claim(ctx, key, ChannelChat, now, DefaultLease)
	if err != nil {
		t.Fatalf("claim of another channel: %v", err)
	}
	if err := l.Done(ctx, c1, now.Add(time.Second)); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if _, err := l.Claim(ctx, key, ChannelAlerts, now.Add(2*time.Second), DefaultLease); !errors.Is(err, ErrDelivered) {
		t.Errorf("claim after Done = %v, want ErrDelivered", err)
	}
	// The same finding at another severity is another record.
	if _, err := l.Claim(ctx, Key{FindingID: key.FindingID, Severity: finding.Critical}, ChannelAlerts, now, DefaultLease); err != nil {
		t.Errorf("claim at a higher severity: %v", err)
	}

	// A released claim can be taken at once.
	if err := l.Release(ctx, cChat); err != nil {
		t.Fatalf("Release: %v", err)
	}
	cChat2, err := l.Claim(ctx, key, ChannelChat, now.Add(time.Second), DefaultLease)
	if err != nil {
		t.Fatalf("claim after a release: %v", err)
	}
	// Releasing a claim that is no longer ours leaves the new one alone.
	if err := l.Release(ctx, cChat); err != nil {
		t.Fatalf("stale Release: %v", err)
	}
	if _, err := l.Claim(ctx, key, ChannelChat, now.Add(2*time.Second), DefaultLease); !errors.As(err, &busy) {
		t.Errorf("claim after a stale release = %v, want busy (the new claim still holds)", err)
	}

	// A crashed claim expires and is taken over; the crashed one's late Done is a duplicate.
	after := cChat2.Until.Add(time.Millisecond)
	cTakeover, err := l.Claim(ctx, key, ChannelChat, after, DefaultLease)
	if err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	if err := l.Done(ctx, cTakeover, after); err != nil {
		t.Fatalf("Done of the takeover: %v", err)
	}
	if err := l.Done(ctx, cChat2, after); !errors.Is(err, ErrDuplicate) {
		t.Errorf("late Done of the expired claim = %v, want ErrDuplicate", err)
	}

	// An expired claim whose holder still finishes first: its Done records the delivery.
	cHub, err := l.Claim(ctx, key, ChannelSecurityHub, now, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Done(ctx, cHub, now.Add(time.Hour)); err != nil {
		t.Errorf("Done after the claim expired, nobody else claimed: %v", err)
	}

	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: key.ID()}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	item := out.Item
	if got := item["id"].(*ddbtypes.AttributeValueMemberS).Value; got != "finding#root-signin-abc#HIGH" {
		t.Errorf("id %q", got)
	}
	delivered := item["delivered"].(*ddbtypes.AttributeValueMemberSS).Value
	if diff := cmp.Diff([]string{"alerts", "chat", "securityhub"}, sortedCopy(delivered)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	exp, _ := strconv.ParseInt(item["expiresAt"].(*ddbtypes.AttributeValueMemberN).Value, 10, 64)
	if want := now.Add(DefaultRetention).Unix(); exp != want {
		t.Errorf("expiresAt %d, want %d (30 days, Unix seconds)", exp, want)
	}
	for _, ch := range []string{"alerts", "chat", "securityhub"} {
		if _, ok := item["lease_"+ch]; ok {
			t.Errorf("lease_%s left on a delivered channel", ch)
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// countingSender counts successful sends per finding id and severity; it is safe for concurrent
// use, can be slowed down and can fail the next n sends.
type countingSender struct {
	mu    sync.Mutex
	sent  map[string]int
	tries int
	fail  int
	delay time.Duration
}

func (c *countingSender) Send(ctx context.Context, fs []finding.Finding) error {
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries++
	if c.fail > 0 {
		c.fail--
		return errors.New("injected send failure")
	}
	if c.sent == nil {
		c.sent = map[string]int{}
	}
	for _, f := range fs {
		c.sent[f.ID+" "+f.Severity.String()]++
	}
	return nil
}

func (c *countingSender) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.sent {
		out[k] = v
	}
	return out
}

type channels struct{ alerts, chat, hub *countingSender }

func ledgerHandler(t *testing.T, log io.Writer) (*Handler, channels) {
	t.Helper()
	api, table := newTable(t)
	cs := channels{&countingSender{}, &countingSender{}, &countingSender{}}
	return &Handler{
		Channels: []Channel{
			{Name: ChannelAlerts, MinSeverity: finding.Low, People: true, Sender: cs.alerts},
			{Name: ChannelChat, MinSeverity: finding.Medium, People: true, Sender: cs.chat},
			{Name: ChannelSecurityHub, MinSeverity: finding.Informational, Sender: cs.hub},
		},
		Log:    slog.New(slog.NewJSONHandler(log, nil)),
		Ledger: &DynamoLedger{API: api, Table: table},
	}, cs
}

func TestHandlerDeliversOncePerChannel(t *testing.T) {
	ctx := context.Background()
	f := sample("f-once", finding.High)
	one := map[string]int{"f-once HIGH": 1}

	t.Run("duplicate event", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		for i := range 3 {
			if err := h.Handle(ctx, event(t, f)); err != nil {
				t.Fatalf("Handle %d: %v", i+1, err)
			}
		}
		for name, c := range map[string]*countingSender{"alerts": cs.alerts, "chat": cs.chat, "securityhub": cs.hub} {
			if diff := cmp.Diff(one, c.counts()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
		if n := strings.Count(log.String(), "not sent: already delivered"); n != 6 {
			t.Errorf("%d 'already delivered' lines, want 6 (3 channels, 2 duplicates)", n)
		}
	})

	t.Run("retry after a partial failure sends only the missing channel", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		cs.hub.fail = 1
		err := h.Handle(ctx, event(t, f))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Channel != ChannelSecurityHub {
			t.Fatalf("first Handle = %v, want the securityhub failure", err)
		}
		if err := h.Handle(ctx, event(t, f)); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if cs.alerts.tries != 1 || cs.chat.tries != 1 || cs.hub.tries != 2 {
			t.Errorf("send attempts alerts %d, chat %d, securityhub %d; want 1, 1, 2", cs.alerts.tries, cs.chat.tries, cs.hub.tries)
		}
		for name, c := range map[string]*countingSender{"alerts": cs.alerts, "chat": cs.chat, "securityhub": cs.hub} {
			if diff := cmp.Diff(one, c.counts()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("concurrent notifiers race on one finding", func(t *testing.T) {
		var log syncBuf
		h, cs := ledgerHandler(t, &log)
		for _, c := range []*countingSender{cs.alerts, cs.chat, cs.hub} {
			c.delay = 30 * time.Millisecond
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				hc := *h
				errs[i] = hc.Handle(ctx, event(t, f))
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
			}
		}
		for name, c := range map[string]*countingSender{"alerts": cs.alerts, "chat": cs.chat, "securityhub": cs.hub} {
			if diff := cmp.Diff(one, c.counts()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
			if c.tries != 1 {
				t.Errorf("%s: %d sends, want 1", name, c.tries)
			}
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		if !strings.Contains(log.b.String(), "waited for another invocation's claim") {
			t.Error("no invocation waited for another's claim: the race was not run")
		}
	})

	t.Run("a crashed claim expires and is retried", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
		h.Now, h.Sleep = clock.Now, clock.Sleep
		// An invocation claimed alerts and died before sending.
		if _, err := h.Ledger.Claim(ctx, KeyOf(f), ChannelAlerts, clock.Now(), DefaultLease); err != nil {
			t.Fatal(err)
		}
		start := clock.Now()
		if err := h.Handle(ctx, event(t, f)); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if waited := clock.Now().Sub(start); waited < DefaultLease {
			t.Errorf("waited %s, want at least the lease (%s)", waited, DefaultLease)
		}
		if diff := cmp.Diff(one, cs.alerts.counts()); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
	})

	t.Run("a claim held past the deadline is a retryable error", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		if _, err := h.Ledger.Claim(ctx, KeyOf(f), ChannelChat, time.Now(), DefaultLease); err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 2*LeaseMargin+500*time.Millisecond)
		defer cancel()
		err := h.Handle(dctx, event(t, f))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Channel != ChannelChat || !fe.Retryable || !errors.As(err, new(*BusyError)) {
			t.Fatalf("Handle = %v, want a retryable busy error on chat", err)
		}
		if len(cs.chat.counts()) != 0 || len(cs.alerts.counts()) != 1 || len(cs.hub.counts()) != 1 {
			t.Errorf("sent alerts %v, chat %v, securityhub %v; want chat untouched, the others once", cs.alerts.counts(), cs.chat.counts(), cs.hub.counts())
		}
	})

	t.Run("a higher severity is delivered again, a repeated one is not", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		for _, sev := range []finding.Severity{finding.Low, finding.High, finding.Low, finding.High} {
			if err := h.Handle(ctx, event(t, sample("session-1", sev))); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(map[string]int{"session-1 LOW": 1, "session-1 HIGH": 1}, cs.alerts.counts()); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"session-1 HIGH": 1}, cs.chat.counts()); diff != "" {
			t.Errorf("chat (-want +got):\n%s", diff)
		}
	})

	t.Run("the record unavailable: sent anyway, logged", func(t *testing.T) {
		var log bytes.Buffer
		h, cs := ledgerHandler(t, &log)
		h.Ledger.(*DynamoLedger).Table = "no-such-table"
		if err := h.Handle(ctx, event(t, f)); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if diff := cmp.Diff(one, cs.alerts.counts()); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
		if !strings.Contains(log.String(), "delivery record unavailable") || !strings.Contains(log.String(), "ResourceNotFoundException") {
			t.Errorf("log does not report the unavailable record:\n%s", log.String())
		}
	})
}

// syncBuf is a log buffer safe for concurrent handlers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func ExampleKey_ID() {
	fmt.Println(Key{FindingID: "root-activity-1f2e", Severity: finding.Critical}.ID())
	// Output: finding#root-activity-1f2e#CRITICAL
}
