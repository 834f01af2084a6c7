package replay

import "io"

// Read-ahead sizes: a few blocks in flight, each a good share of a gzip window's output.
const (
	raBlocks    = 4
	raBlockSize = 256 << 10
)

// readAhead gunzips in its own goroutine, a few blocks ahead of the scanner, so that a replay
// of compressed files uses two cores. Run uses it when GOMAXPROCS is above one, for files only:
// a read from standard input may block for ever, and Stop waits for the goroutine.
type readAhead struct {
	free   chan []byte // empty blocks; the only ones that exist, so sends never block
	blocks chan raBlock
	stop   chan struct{}
	exited chan struct{}
	cur    raBlock
	off    int
}

// raBlock is a block read and the error that ended the reading, if any.
type raBlock struct {
	data []byte
	err  error
}

func newReadAhead() *readAhead {
	ra := &readAhead{free: make(chan []byte, raBlocks)}
	for range raBlocks {
		ra.free <- make([]byte, raBlockSize)
	}
	return ra
}

// Start reads src in a new goroutine. Call Stop before starting again or touching src.
func (ra *readAhead) Start(src io.Reader) {
	ra.blocks = make(chan raBlock, raBlocks)
	ra.stop = make(chan struct{})
	ra.exited = make(chan struct{})
	ra.cur, ra.off = raBlock{}, 0
	go ra.run(src, ra.blocks, ra.stop, ra.exited)
}

func (ra *readAhead) run(src io.Reader, blocks chan<- raBlock, stop <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-stop:
			return
		}
		n, err := io.ReadFull(src, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		blocks <- raBlock{data: buf[:n], err: err} // room for every block that exists
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.data) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.data != nil {
			ra.free <- ra.cur.data[:cap(ra.cur.data)]
		}
		ra.cur, ra.off = <-ra.blocks, 0 // the goroutine always ends with a block that has an error
	}
	n := copy(p, ra.cur.data[ra.off:])
	ra.off += n
	return n, nil
}

// Stop ends the goroutine, waits for it, and takes the blocks back.
func (ra *readAhead) Stop() {
	close(ra.stop)
	<-ra.exited
	for {
		select {
		case b := <-ra.blocks:
			ra.free <- b.data[:cap(b.data)]
			continue
		default:
		}
		break
	}
	if ra.cur.data != nil {
		ra.free <- ra.cur.data[:cap(ra.cur.data)]
	}
	ra.cur, ra.off = raBlock{}, 0
}
