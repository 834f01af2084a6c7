package replay

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*raBlockSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	boom := errors.New("gzip: invalid checksum")
	ra := newReadAhead()
	for round := range 3 { // reused: every block must come back after each Stop
		t.Run("whole input", func(t *testing.T) {
			ra.Start(iotest.HalfReader(bytes.NewReader(data)))
			got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(ra, 1000)))
			if err != nil || !bytes.Equal(got, data[:1000]) {
				t.Fatalf("round %d: first 1000 bytes: %v", round, err)
			}
			rest, err := io.ReadAll(ra)
			ra.Stop()
			if err != nil || !bytes.Equal(append(got, rest...), data) {
				t.Errorf("round %d: read %d bytes (%v), want %d", round, len(got)+len(rest), err, len(data))
			}
		})
		t.Run("stopped early", func(t *testing.T) {
			ra.Start(bytes.NewReader(data))
			buf := make([]byte, 10)
			if _, err := io.ReadFull(ra, buf); err != nil {
				t.Fatal(err)
			}
			ra.Stop()
		})
		t.Run("error after data", func(t *testing.T) {
			ra.Start(io.MultiReader(bytes.NewReader(data[:raBlockSize+5]), iotest.ErrReader(boom)))
			got, err := io.ReadAll(ra)
			ra.Stop()
			if !errors.Is(err, boom) || !bytes.Equal(got, data[:raBlockSize+5]) {
				t.Errorf("read %d bytes and %v, want %d bytes and %v", len(got), err, raBlockSize+5, boom)
			}
		})
	}
	if len(ra.free) != raBlocks {
		t.Errorf("%d blocks free after the last Stop, want %d", len(ra.free), raBlocks)
	}
}
