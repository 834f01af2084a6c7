package replay

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is an in-process S3 (gofakes3 over httptest) that counts the requests it serves.
type fakeS3 struct {
	backend gofakes3.Backend
	srv     *httptest.Server

	mu       sync.Mutex
	lists    []string // the prefix of each ListObjectsV2 call
	gets     []string // the key of each GetObject call
	inFlight int
	maxGets  int // most GETs served at once

	getDelay time.Duration     // added to every GET (to see them overlap)
	deny     map[string]string // key -> error code answered with 403 instead
	region   string            // when set, requests signed for another region get a 301
}

func newFakeS3(t testing.TB) *fakeS3 { return newFakeS3On(t, s3mem.New()) }

// newFakeS3On is newFakeS3 storing the objects in backend.
func newFakeS3On(t testing.TB, backend gofakes3.Backend) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: backend, deny: map[string]string{}}
	faker := gofakes3.New(f.backend)
	inner := faker.Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.region != "" && !strings.Contains(r.Header.Get("Authorization"), "/"+f.region+"/s3/") {
			w.Header().Set("X-Amz-Bucket-Region", f.region)
			w.WriteHeader(http.StatusMovedPermanently)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`)
			return
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2" {
			f.mu.Lock()
			f.lists = append(f.lists, r.URL.Query().Get("prefix"))
			f.mu.Unlock()
		}
		if r.Method == http.MethodGet && key != "" {
			f.mu.Lock()
			f.gets = append(f.gets, key)
			f.inFlight++
			f.maxGets = max(f.maxGets, f.inFlight)
			code := f.deny[key]
			f.mu.Unlock()
			defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
			time.Sleep(f.getDelay)
			if code != "" {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>Access Denied</Message><Key>%s</Key><BucketName>%s</BucketName></Error>`, code, key, bucket)
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// client is an S3 client for the fake, as NewS3Client makes one for AWS_ENDPOINT_URL_S3.
func (f *fakeS3) client(region string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(f.srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKE", "secret", ""),
		DisableLogOutputChecksumValidationSkipped: true,
	})
}

func (f *fakeS3) put(t testing.TB, bucket string, files []archiveFile) {
	t.Helper()
	if ok, _ := f.backend.BucketExists(bucket); !ok {
		if err := f.backend.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range files {
		if _, err := f.backend.PutObject(bucket, a.key, map[string]string{}, bytes.NewReader(a.data), int64(len(a.data)), nil); err != nil {
			t.Fatalf("put %s: %v", a.key, err)
		}
	}
}

// counts returns the LIST prefixes and GET keys served so far and the most GETs served at
// once, and forgets them.
func (f *fakeS3) counts() (lists, gets []string, maxGets int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lists, gets, maxGets = f.lists, f.gets, f.maxGets
	f.lists, f.gets, f.maxGets = nil, nil, 0
	return lists, gets, maxGets
}

// archiveFile is one object of a generated CloudTrail archive.
type archiveFile struct {
	key  string
	data []byte
}

// archive describes a generated organization trail archive.
type archive struct {
	accounts []string
	regions  []string
	days     []time.Time
	hours    []time.Duration // delivery times of each day's files, after midnight
	records  int             // per file
}

// testArchive is three accounts, two regions, four days, four files a day per account and
// region (the first delivered at 00:03 with events of the previous day's last minutes).
var testArchive = archive{
	accounts: []string{"111111111111", "222222222222", "333333333333"},
	regions:  []string{"eu-west-1", "us-east-1"},
	days: []time.Time{
		time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC),
	},
	hours:   []time.Duration{3 * time.Minute, 6 * time.Hour, 12 * time.Hour, 18 * time.Hour},
	records: 300,
}

const archiveOrg = "o-test12345"

// generate makes the archive's log files (gzipped {"Records":[...]}), records from the
// benchmark's generator, each file's events in the minutes before its delivery time.
func (a archive) generate(seed uint64) []archiveFile {
	g := newGenerator(seed)
	var out []archiveFile
	n := 0
	for _, acct := range a.accounts {
		for _, region := range a.regions {
			for _, day := range a.days {
				for _, h := range a.hours {
					delivered := day.Add(h)
					g.time = delivered.Add(-6 * time.Minute)
					buf := []byte(`{"Records":[`)
					for i := range a.records {
						if i > 0 {
							buf = append(buf, ',')
						}
						buf = g.record(buf)
					}
					buf = append(buf, "]}"...)
					n++
					key := fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%04dabcd.json.gz",
						archiveOrg, acct, region, day.Format("2006/01/02"), acct, region, delivered.Format("20060102T1504Z"), n)
					out = append(out, archiveFile{key: key, data: gzipBytes(string(buf))})
				}
			}
		}
		// A digest file, which is not events: an S3 replay must not read it.
		out = append(out, archiveFile{
			key:  fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/us-east-1/2024/05/01/%s_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T010000Z.json.gz", archiveOrg, acct, acct),
			data: gzipBytes(`{"awsAccountId":"` + acct + `","digestStartTime":"2024-05-01T00:00:00Z","logFiles":[]}`),
		})
	}
	return out
}

// gzipBytes gzips s in memory (writing to a bytes.Buffer cannot fail).
func gzipBytes(s string) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte(s))
	w.Close()
	return z.Bytes()
}

// writeArchive writes the files under dir, keys as paths.
func writeArchive(t testing.TB, dir string, files []archiveFile) {
	t.Helper()
	for _, a := range files {
		p := filepath.Join(dir, filepath.FromSlash(a.key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, a.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var keyDate = regexp.MustCompile(`/CloudTrail/[^/]+/(\d{4}/\d{2}/\d{2})/`)

// replayOrder returns the event files among keys in the order an S3 replay reads them: by the
// date folder, then by key (digests left out); each prefixed with dir.
func replayOrder(dir string, files []archiveFile, keep func(key string) bool) []string {
	var keys []string
	for _, a := range files {
		if keyDate.MatchString(a.key) && (keep == nil || keep(a.key)) {
			keys = append(keys, a.key)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		di, dj := keyDate.FindStringSubmatch(keys[i])[1], keyDate.FindStringSubmatch(keys[j])[1]
		if di != dj {
			return di < dj
		}
		return keys[i] < keys[j]
	})
	for i, k := range keys {
		keys[i] = filepath.Join(dir, filepath.FromSlash(k))
	}
	return keys
}
