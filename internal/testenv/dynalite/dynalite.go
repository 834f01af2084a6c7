// Package dynalite runs dynalite, the DynamoDB emulator pinned in the repository's package.json
// (npm dynalite 4.0.0), for tests: Start installs the npm packages with `npm ci` when
// node_modules lacks it, starts it on a free loopback port and stops it when the test ends;
// CreateTable creates a table shaped like rootguard's state table.
package dynalite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// goModLine keeps Go out of node_modules: a go.mod there makes it another module, so that
// `go ... ./...` skips the Go files some npm packages ship (infra/make.mk writes the same).
const goModLine = "module rootguard.invalid/node_modules\n"

// Server is a running dynalite.
type Server struct {
	// Endpoint is its URL (http://127.0.0.1:PORT).
	Endpoint string
	cmd      *exec.Cmd
	out      *lockedBuffer
	done     chan struct{}
}

// installMu serialises installation inside one test process; a file lock serialises it between
// the test processes `go test ./...` runs in parallel.
var installMu sync.Mutex

// Start starts dynalite for the test (in memory, on a free loopback port) and stops it when the
// test ends. The test fails, never skips, when dynalite cannot be installed or started.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatalf("dynalite: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New starts dynalite (in memory, on a free loopback port), installing it first when needed;
// the caller stops it (TestMain, for a server shared by a package's tests).
func New() (*Server, error) {
	bin, err := install()
	if err != nil {
		return nil, err
	}
	var s *Server
	for attempt := 0; attempt < 3 && s == nil; attempt++ { // the free port may be taken meanwhile
		s, err = start(bin)
	}
	return s, err
}

// TableName turns a test's name into a valid table name (3 to 255 of [A-Za-z0-9_.-]).
func TableName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	s := "t-" + string(b)
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), out: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited: %s", bin, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("nothing listens on port %d after 20s: %s", port, s.out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop ends dynalite (its whole process group).
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// Output is what dynalite printed.
func (s *Server) Output() string { return s.out.String() }

// Client returns a DynamoDB client of the server, with static credentials and the SDK's standard
// retryer.
func (s *Server) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
	})
}

// Env returns the environment that points a process's default SDK configuration at the server.
func (s *Server) Env() map[string]string {
	return map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": s.Endpoint}
}

// CreateTable creates a table like rootguard's state table (partition key id, a string; on
// demand) and returns once it is active.
func (s *Server) CreateTable(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := s.Client()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("dynalite: create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 15*time.Second); err != nil {
		t.Fatalf("dynalite: table %s not active: %v", name, err)
	}
}

// Items returns every item of a table (a consistent scan), for tests to inspect or restore.
func (s *Server) Items(ctx context.Context, table string) ([]map[string]ddbtypes.AttributeValue, error) {
	var out []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(s.Client(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// Reset makes a table hold exactly items: every other item is deleted, each of items put.
func (s *Server) Reset(ctx context.Context, table string, items []map[string]ddbtypes.AttributeValue) error {
	c := s.Client()
	cur, err := s.Items(ctx, table)
	if err != nil {
		return err
	}
	for _, it := range cur {
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"id": it["id"]}}); err != nil {
			return fmt.Errorf("reset %s: %w", table, err)
		}
	}
	for _, it := range items {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			return fmt.Errorf("reset %s: %w", table, err)
		}
	}
	return nil
}

// install returns the path of node_modules/.bin/dynalite, running `npm ci` in the repository
// first when it is missing.
func install() (string, error) {
	installMu.Lock()
	defer installMu.Unlock()
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "node_modules", ".bin", "dynalite")
	if executable(bin) {
		return bin, nil
	}
	sum := sha256.Sum256([]byte(root))
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "rootguard-npm-ci-"+hex.EncodeToString(sum[:8])+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("lock the npm installation: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the npm installation: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if executable(bin) { // installed by another test process meanwhile
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%s is missing and npm is not installed to install it (run `make tools`): %w", bin, err)
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w\n%s", root, err, out)
	}
	if err := os.WriteFile(filepath.Join(root, "node_modules", "go.mod"), []byte(goModLine), 0o644); err != nil {
		return "", fmt.Errorf("write node_modules/go.mod: %w", err)
	}
	if !executable(bin) {
		return "", fmt.Errorf("npm ci did not install %s: is dynalite in package.json's devDependencies?", bin)
	}
	return bin, nil
}

// repoRoot is the nearest folder above the working directory with a package.json naming dynalite.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil && strings.Contains(string(b), `"dynalite"`) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no package.json with dynalite above the working directory")
		}
		dir = parent
	}
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects a process's output for several writers and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
