package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// samplesDir holds the project's sample events; it may not exist yet.
const samplesDir = "../../events"

// sample is one file under samplesDir, gunzipped.
type sample struct {
	path string
	data []byte
}

// samples reads every regular file under samplesDir (none when the folder does not exist).
func samples(tb testing.TB) []sample {
	tb.Helper()
	var out []sample
	err := filepath.WalkDir(samplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == samplesDir {
				return fs.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			z, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return err
			}
			if data, err = io.ReadAll(z); err != nil {
				return err
			}
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
