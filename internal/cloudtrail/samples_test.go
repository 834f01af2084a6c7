package cloudtrail

import (
	"bytes"
	"io"
	"io/fs"
	"testing"

	"github.com/rootguard/rootguard/events"
)

// sample is one file of the events folder (the samples and the sample organizations).
type sample struct {
	path string
	data []byte
}

// samples returns every file of the events folder, gunzipped.
func samples(tb testing.TB) []sample {
	tb.Helper()
	var out []sample
	err := fs.WalkDir(events.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := events.Read(path)
		if err != nil {
			return err
		}
		out = append(out, sample{path: path, data: data})
		return nil
	})
	if err != nil {
		tb.Fatalf("read the sample events: %v", err)
	}
	return out
}

// sampleRecords splits every JSON sample into its records (copies), skipping what is not JSON.
func sampleRecords(tb testing.TB) map[string][][]byte {
	tb.Helper()
	out := map[string][][]byte{}
	for _, s := range samples(tb) {
		st := NewStream(bytes.NewReader(s.data))
		for {
			rec, err := st.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			out[s.path] = append(out[s.path], bytes.Clone(rec.Bytes))
		}
	}
	return out
}
