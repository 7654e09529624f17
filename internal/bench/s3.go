package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runS3 measures the object store: 1 MiB PutObject/GetObject over loopback against writing
// and reading the same bytes to a file directly (with the fsyncs and rename a durable write
// needs), ListObjectsV2 page latency in a small and a large bucket, and the server's RSS
// while a large object streams through it.
func runS3(dur time.Duration, conns, listKeys int, bigMiB int) error {
	dir, err := os.MkdirTemp("", "localpipe-bench-s3-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, _, err := startChild("-serve", "localpipe", "-data-dir", filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer lp.stop()
	base := "http://" + lp.addr
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	for _, b := range []string{"bench", "small", "large"} {
		if err := s3Do(hc, "PUT", base+"/"+b, nil, 0); err != nil {
			return err
		}
	}
	obj := make([]byte, 1<<20)
	rand.Read(obj)
	fmt.Printf("localpipe S3 benchmark: %d conns, %s runs, 1 MiB objects\n\n", conns, dur)

	var seq atomic.Int64
	putRate, err := parallel(conns, dur, func() error {
		return s3Do(hc, "PUT", fmt.Sprintf("%s/bench/obj-%d", base, seq.Add(1)%256), obj, 0)
	})
	if err != nil {
		return err
	}
	fileDir := filepath.Join(dir, "files")
	os.MkdirAll(fileDir, 0o755)
	filePut, err := parallel(conns, dur, func() error {
		return writeDurable(filepath.Join(fileDir, fmt.Sprintf("obj-%d", seq.Add(1)%256)), obj)
	})
	if err != nil {
		return err
	}
	getRate, err := parallel(conns, dur, func() error {
		return s3Do(hc, "GET", fmt.Sprintf("%s/bench/obj-%d", base, seq.Add(1)%256), nil, len(obj))
	})
	if err != nil {
		return err
	}
	fileGet, err := parallel(conns, dur, func() error {
		b, err := os.ReadFile(filepath.Join(fileDir, fmt.Sprintf("obj-%d", seq.Add(1)%256)))
		if err == nil && len(b) != len(obj) {
			err = fmt.Errorf("short read")
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("%-44s %10s %10s %7s\n", "", "localpipe", "file", "ratio")
	fmt.Printf("%-44s %10.0f %10.0f %7.2f\n", "PutObject 1 MiB, MiB/s (file: durable write)", putRate, filePut, putRate/filePut)
	fmt.Printf("%-44s %10.0f %10.0f %7.2f\n", "GetObject 1 MiB, MiB/s (file: os.ReadFile)", getRate, fileGet, getRate/fileGet)
	fmt.Printf("(durable write: write, fsync, rename, fsync of the directory, as the store does)\n\n")

	// Listing: fill a small and a large bucket with empty objects, then time pages of 1000
	// from the start and from the middle of each.
	for _, fill := range []struct {
		bucket string
		n      int
	}{{"small", 1000}, {"large", listKeys}} {
		t0 := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		var ferr atomic.Value
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := next.Add(1) - 1
					if k >= int64(fill.n) {
						return
					}
					if err := s3Do(hc, "PUT", fmt.Sprintf("%s/%s/key-%09d", base, fill.bucket, k), nil, 0); err != nil {
						ferr.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := ferr.Load().(error); err != nil {
			return err
		}
		fmt.Printf("filled %-6s with %8d keys in %s\n", fill.bucket, fill.n, time.Since(t0).Round(time.Millisecond))
	}
	page := func(bucket string, n int) (time.Duration, error) {
		var lat []time.Duration
		for i := 0; i < 50; i++ {
			// A bucket of one page is listed from its start; a larger one from a different
			// key each time, so the pages are not all served from the same cached pages.
			after := ""
			if n > 1000 {
				after = fmt.Sprintf("key-%09d", (i*7919)%(n-1000))
			}
			t0 := time.Now()
			if err := s3Do(hc, "GET", base+"/"+bucket+"?list-type=2&start-after="+after, nil, -1); err != nil {
				return 0, err
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[len(lat)/2], nil
	}
	small, err := page("small", 1000)
	if err != nil {
		return err
	}
	large, err := page("large", listKeys)
	if err != nil {
		return err
	}
	fmt.Printf("%-44s %10s\n", "ListObjectsV2 page of 1000, 1k keys, median", small.Round(time.Microsecond))
	fmt.Printf("%-44s %10s   large/small %.2f\n\n", fmt.Sprintf("ListObjectsV2 page of 1000, %d keys, median", listKeys), large.Round(time.Microsecond), float64(large)/float64(small))

	// RSS while a big object streams up and down, sampled, and the kernel's high-water mark
	// (VmHWM), which no sampling interval can miss.
	idle, hwmBefore := lp.rssMiB(), hwmMiB(lp)
	var peakUp, peakDown float64
	sample := func(peak *float64, done chan struct{}) {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				*peak = max(*peak, lp.rssMiB())
			}
		}
	}
	size := int64(bigMiB) << 20
	done := make(chan struct{})
	go sample(&peakUp, done)
	req, _ := http.NewRequest("PUT", base+"/bench/big", io.LimitReader(zeroReader{}, size))
	req.ContentLength = size
	resp, err := hc.Do(req)
	close(done)
	if err != nil {
		return err
	}
	resp.Body.Close()
	done = make(chan struct{})
	go sample(&peakDown, done)
	err = s3Do(hc, "GET", base+"/bench/big", nil, int(size))
	close(done)
	if err != nil {
		return err
	}
	fmt.Printf("RSS idle %.1f MiB; peak while a %d MiB object uploads %.1f MiB, downloads %.1f MiB\n", idle, bigMiB, peakUp, peakDown)
	fmt.Printf("VmHWM (peak RSS since start) before the big object %.1f MiB, after %.1f MiB\n", hwmBefore, hwmMiB(lp))
	return nil
}

func hwmMiB(c *child) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// s3Do sends one unsigned request and drains the answer; want >= 0 checks the body length.
func s3Do(hc *http.Client, method, url string, body []byte, want int) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d", method, url, resp.StatusCode)
	}
	if want >= 0 && method == "GET" && n != int64(want) {
		return fmt.Errorf("%s %s: %d bytes, want %d", method, url, n, want)
	}
	return nil
}

func writeDurable(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// A rename is durable only once its directory is synced; the store does this too before
	// it acknowledges a put.
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// parallel runs fn from conns goroutines for d and returns calls per second (each call moves
// 1 MiB, so that is also MiB/s).
func parallel(conns int, d time.Duration, fn func() error) (float64, error) {
	return parallelEach(conns, d, func() func() error { return fn })
}
