package replay

import (
	"io"

	"github.com/klauspost/compress/gzip"
)

// gzipReader is a reusable gunzipper. It uses github.com/klauspost/compress, whose inflater is
// faster than the standard library's on CloudTrail log files (see BenchmarkGunzip).
type gzipReader struct {
	z *gzip.Reader
}

// Reset starts gunzipping r (multi-member streams are read as one).
func (g *gzipReader) Reset(r io.Reader) error {
	if g.z == nil {
		z, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		g.z = z
		return nil
	}
	return g.z.Reset(r)
}

// Reader returns the decompressed stream.
func (g *gzipReader) Reader() io.Reader { return g.z }
