//go:build linux

package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
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
	p := &process{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// Own process group (stop kills the children too); killed with the test process.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p
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
}

func startLambda(t testing.TB, rie, name, bootstrap string, env []string) *lambdaFn {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	api := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startProcess(t, name, env, rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap)
	if err := waitPort(addr, 10*time.Second); err != nil {
		p.stop()
		t.Fatalf("%s: emulator: %v\n%s", name, err, p.out.String())
	}
	return &lambdaFn{name: name, proc: p, url: "http://" + addr + "/2015-03-31/functions/function/invocations"}
}

// invocationError is the error a function returned, as the emulator reports it.
type invocationError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *invocationError) Error() string { return e.Type + ": " + e.Message }

// invoke calls the function synchronously; a function error is an *invocationError.
func (l *lambdaFn) invoke(ctx context.Context, event []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(event))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("invoke %s: %w", l.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke %s: HTTP %d: %s", l.name, resp.StatusCode, body)
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
