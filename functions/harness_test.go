//go:build linux

package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Pinned test tools (the same pins as the Makefile's `make tools`).
const (
	riePackage   = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
	goawsPackage = "github.com/Admiral-Piett/goaws/app/cmd@v0.4.5"
)

// installMu serialises tool installation between tests of this package.
var installMu sync.Mutex

// tool returns the path of a pinned tool: ../.tools/bin (filled by `make tools`) when it holds
// it, else the per-user cache, where it is installed with `go install` when missing.
func tool(t testing.TB, names []string, pkg string) string {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	dirs := []string{filepath.Join("..", ".tools", "bin")}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	cacheBin := filepath.Join(cache, "rootguard-tools")
	dirs = append(dirs, cacheBin)
	find := func() string {
		for _, d := range dirs {
			for _, n := range names {
				p := filepath.Join(d, n)
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					abs, _ := filepath.Abs(p)
					return abs
				}
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	t.Logf("installing %s into %s", pkg, cacheBin)
	cmd := exec.Command("go", "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+cacheBin, "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Dir = os.TempDir() // outside this module: the tool's own go.mod decides its dependencies
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install %s: %v\n%s", pkg, err, out)
	}
	p := find()
	if p == "" {
		t.Fatalf("install %s: no %v in %s afterwards", pkg, names, cacheBin)
	}
	return p
}

// buildFunctions builds every function for the host into dir/<name> and returns the paths.
func buildFunctions(t testing.TB, dir string, names []string) map[string]string {
	t.Helper()
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + string(os.PathSeparator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := map[string]string{}
	for _, n := range names {
		out[n] = filepath.Join(dir, n)
	}
	return out
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is a child process in its own process group, so that stopping it stops its children.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func startProcess(t testing.TB, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p, err := launchProcess(name, env, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func launchProcess(name string, env []string, bin string, args ...string) (*process, error) {
	p := &process{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// Own process group (stop kills the children too); killed with the test process.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// lambdaFn is one function running under its own Runtime Interface Emulator.
type lambdaFn struct {
	name string
	proc *process
	url  string
	// What restart needs.
	rie, bootstrap string
	env            []string
}

func startLambda(t testing.TB, rie, name, bootstrap string, env []string) *lambdaFn {
	t.Helper()
	l, err := launchLambda(rie, name, bootstrap, env)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func launchLambda(rie, name, bootstrap string, env []string) (*lambdaFn, error) {
	l := &lambdaFn{name: name, rie: rie, bootstrap: bootstrap, env: env}
	return l, l.launch()
}

// launch starts the emulator on two fresh loopback ports. A port can be taken between the moment
// it is found free and the emulator's bind (the emulator then exits at once): it is tried again
// on other ports.
func (l *lambdaFn) launch() error {
	var last error
	for range 3 {
		addr, api, err := twoPorts()
		if err != nil {
			return err
		}
		p, err := launchProcess(l.name, l.env, l.rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, l.bootstrap)
		if err != nil {
			return err
		}
		if err := waitPort(addr, 10*time.Second); err != nil {
			p.stop()
			last = fmt.Errorf("%s: emulator: %w\n%s", l.name, err, p.out.String())
			continue
		}
		select {
		case <-p.done:
			last = fmt.Errorf("%s: the emulator exited at start:\n%s", l.name, p.out.String())
			continue
		case <-time.After(20 * time.Millisecond):
		}
		l.proc, l.url = p, "http://"+addr+"/2015-03-31/functions/function/invocations"
		return nil
	}
	return last
}

// twoPorts returns two distinct loopback addresses that were free a moment ago (both are held
// while the second is chosen, so they differ).
func twoPorts() (string, string, error) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	return a.Addr().String(), b.Addr().String(), nil
}

// restart replaces the emulator's process, as Lambda replaces an execution environment (after a
// timeout, for one); the old process's output is kept.
func (l *lambdaFn) restart() error {
	old := l.proc
	old.stop()
	if err := l.launch(); err != nil {
		return err
	}
	_, _ = l.proc.out.Write([]byte(old.out.String()))
	return nil
}

// invocationError is the error a function returned, as the emulator reports it.
type invocationError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *invocationError) Error() string { return e.Type + ": " + e.Message }

// timeoutError: the function ran past its timeout (AWS_LAMBDA_FUNCTION_TIMEOUT); the emulator
// answers "Task timed out after N.00 seconds".
type timeoutError struct{ message string }

func (e *timeoutError) Error() string { return e.message }

// invoke calls the function synchronously; a function error is an *invocationError, a timeout
// a *timeoutError.
func (l *lambdaFn) invoke(ctx context.Context, event []byte) error {
	post := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(event))
		if err != nil {
			return nil, err
		}
		return http.DefaultClient.Do(req)
	}
	resp, err := post()
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		// The emulator is gone before the request reached it (it exits when another process
		// took its runtime API port after it started): nothing was invoked, so a new execution
		// environment takes the same event, as Lambda would.
		if rerr := l.restart(); rerr != nil {
			return fmt.Errorf("invoke %s: %w; restart: %w", l.name, err, rerr)
		}
		resp, err = post()
	}
	if err != nil {
		return fmt.Errorf("invoke %s: %w", l.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke %s: HTTP %d: %s", l.name, resp.StatusCode, body)
	}
	if bytes.HasPrefix(body, []byte("Task timed out")) {
		return &timeoutError{message: l.name + ": " + string(body)}
	}
	var fe invocationError
	if json.Unmarshal(body, &fe) == nil && (fe.Message != "" || fe.Type != "") {
		return &fe
	}
	return nil
}

// goaws is the local SNS and SQS (Query protocol only for SQS).
type goaws struct {
	proc     *process
	endpoint string
	account  string
}

func startGoaws(t testing.TB, bin, dir, account string) *goaws {
	t.Helper()
	port := freePort(t)
	conf := fmt.Sprintf(`Local:
  Host: 127.0.0.1
  Port: %d
  Region: us-east-1
  AccountId: "%s"
  LogToFile: false
  QueueAttributeDefaults:
    VisibilityTimeout: 3600
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
`, port, account)
	path := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "goaws", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, bin, "-config", path, "Local")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitPort(addr, 15*time.Second); err != nil {
		p.stop()
		t.Fatalf("goaws: %v\n%s", err, p.out.String())
	}
	return &goaws{proc: p, endpoint: "http://" + addr, account: account}
}

// query sends one Query protocol request and decodes its XML answer into out.
func (g *goaws) query(form url.Values, out any) error {
	resp, err := http.PostForm(g.endpoint+"/", form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", form.Get("Action"), resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := xml.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w: %s", form.Get("Action"), err, body)
	}
	return nil
}

// createQueue creates an SQS queue and returns its URL and ARN.
func (g *goaws) createQueue(name string) (queueURL, arn string, err error) {
	var out struct {
		URL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := g.query(url.Values{"Action": {"CreateQueue"}, "QueueName": {name}}, &out); err != nil {
		return "", "", err
	}
	return out.URL, fmt.Sprintf("arn:aws:sqs:us-east-1:%s:%s", g.account, name), nil
}

// snsEnvelope is an SNS notification as an SQS subscriber (without raw delivery) receives it.
type snsEnvelope struct {
	Type              string                       `json:"Type"`
	Subject           string                       `json:"Subject"`
	Message           string                       `json:"Message"`
	MessageAttributes map[string]map[string]string `json:"MessageAttributes"`
}

// drain receives every message on a queue (they stay invisible for the rest of the test).
func (g *goaws) drain(queueURL string) ([]snsEnvelope, error) {
	var all []snsEnvelope
	for {
		var out struct {
			Messages []struct {
				Body string `xml:"Body"`
			} `xml:"ReceiveMessageResult>Message"`
		}
		if err := g.query(url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {queueURL}, "MaxNumberOfMessages": {"10"}}, &out); err != nil {
			return all, err
		}
		if len(out.Messages) == 0 {
			return all, nil
		}
		for _, m := range out.Messages {
			var env snsEnvelope
			if err := json.Unmarshal([]byte(m.Body), &env); err != nil {
				return all, fmt.Errorf("SQS message is not an SNS notification: %w: %s", err, m.Body)
			}
			all = append(all, env)
		}
	}
}
