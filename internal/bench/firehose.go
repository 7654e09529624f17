package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// runFirehose measures Firehose: the latency from PutRecord to the object being readable after
// a flush call, against a direct S3 PutObject + GetObject of the same bytes on the same server
// (the write and read a delivery cannot avoid), and the server's RSS while `streams` delivery
// streams each hold a buffer of `bufMiB` MiB.
func runFirehose(rounds, streams, bufMiB int) error {
	dir, err := os.MkdirTemp("", "localpipe-bench-fh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	hc := &http.Client{}
	lp, _, err := startChild("-serve", "localpipe", "-data-dir", filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer lp.stop()
	idle := lp.rssMiB()
	base := "http://" + lp.addr
	if err := s3Do(hc, "PUT", base+"/fh-bench", nil, 200); err != nil {
		return err
	}
	dest := func(name string) []byte {
		b, _ := json.Marshal(map[string]any{"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": map[string]any{
			"BucketARN": "arn:aws:s3:::fh-bench", "RoleARN": "arn:aws:iam::000000000000:role/r", "Prefix": name + "/",
			"BufferingHints": map[string]int{"SizeInMBs": 128, "IntervalInSeconds": 900}}})
		return b
	}
	if _, err := fhCall(hc, lp.addr, "CreateDeliveryStream", dest("lat")); err != nil {
		return err
	}
	data := bytes.Repeat([]byte("x"), 1000)
	put, _ := json.Marshal(map[string]any{"DeliveryStreamName": "lat", "Record": map[string]any{"Data": data}})

	fmt.Printf("localpipe Firehose benchmark: %d rounds, %d delivery streams × %d MiB buffered, %d CPUs\n\n", rounds, streams, bufMiB, numCPU())
	var fhLat, s3Lat []time.Duration
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		if _, err := fhCall(hc, lp.addr, "PutRecord", put); err != nil {
			return err
		}
		resp, err := hc.Post(base+"/_localpipe/firehose/lat/flush", "application/json", nil)
		if err != nil {
			return err
		}
		var out struct{ Keys []string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if len(out.Keys) != 1 {
			return fmt.Errorf("flush wrote %v", out.Keys)
		}
		got, err := s3Get(hc, base+"/fh-bench/"+out.Keys[0])
		if err != nil {
			return err
		}
		fhLat = append(fhLat, time.Since(t0))
		if len(got) != len(data) {
			return fmt.Errorf("object holds %d bytes", len(got))
		}

		t0 = time.Now()
		key := fmt.Sprintf("/fh-bench/direct/%d", i)
		if err := s3Do(hc, "PUT", base+key, data, 200); err != nil {
			return err
		}
		if _, err := s3Get(hc, base+key); err != nil {
			return err
		}
		s3Lat = append(s3Lat, time.Since(t0))
	}
	fmt.Printf("%-50s %10s %10s %7s\n", "", "firehose", "S3 direct", "ratio")
	fmt.Printf("%-50s %10s %10s %7.2f\n", "PutRecord → flush → GetObject, median", median(fhLat).Round(time.Microsecond), median(s3Lat).Round(time.Microsecond), float64(median(fhLat))/float64(median(s3Lat)))
	fmt.Printf("%-50s %10s %10s %7.2f\n\n", "PutRecord → flush → GetObject, p99", pct(fhLat, 99).Round(time.Microsecond), pct(s3Lat, 99).Round(time.Microsecond), float64(pct(fhLat, 99))/float64(pct(s3Lat, 99)))

	// Memory: many delivery streams, each with a buffer that neither size nor interval closes.
	before := lp.rssMiB()
	for i := 0; i < streams; i++ {
		if _, err := fhCall(hc, lp.addr, "CreateDeliveryStream", dest(fmt.Sprintf("mem%03d", i))); err != nil {
			return err
		}
	}
	created := lp.rssMiB()
	rec := bytes.Repeat([]byte("y"), 256<<10)
	var batch []map[string]any
	for j := 0; j < 4; j++ {
		batch = append(batch, map[string]any{"Data": rec})
	}
	t0 := time.Now()
	for i := 0; i < streams; i++ {
		body, _ := json.Marshal(map[string]any{"DeliveryStreamName": fmt.Sprintf("mem%03d", i), "Records": batch})
		for m := 0; m < bufMiB; m++ {
			if _, err := fhCall(hc, lp.addr, "PutRecordBatch", body); err != nil {
				return err
			}
		}
	}
	fill := time.Since(t0)
	buffered := lp.rssMiB()
	heap := heapMiB(hc, base)
	t0 = time.Now()
	resp, err := hc.Post(base+"/_localpipe/firehose/flush", "application/json", nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	flushAll := time.Since(t0)
	flushed := lp.rssMiB()
	total := streams * bufMiB
	fmt.Printf("buffered %d MiB across %d delivery streams in %s (%.0f MiB/s through PutRecordBatch, one connection)\n", total, streams, fill.Round(time.Millisecond), float64(total)/fill.Seconds())
	fmt.Printf("%-50s %9.1f MiB\n", "RSS idle (empty data dir)", idle)
	fmt.Printf("%-50s %9.1f MiB\n", "RSS before creating the delivery streams", before)
	fmt.Printf("%-50s %9.1f MiB\n", fmt.Sprintf("RSS with %d delivery streams, empty", streams), created)
	fmt.Printf("%-50s %9.1f MiB   (%.2f× idle; buffers total %d MiB)\n", fmt.Sprintf("RSS with %d delivery streams buffering", streams), buffered, buffered/idle, total)
	fmt.Printf("%-50s %9.1f MiB\n", "  of which Go heap in use", heap)
	fmt.Printf("%-50s %9.1f MiB   (flush of all took %s)\n", "RSS after flushing them all", flushed, flushAll.Round(time.Millisecond))
	return nil
}

func fhCall(hc *http.Client, addr, action string, body []byte) ([]byte, error) {
	return jsonCall(hc, addr, "firehose", "Firehose_20150804."+action, body)
}

func s3Get(hc *http.Client, url string) ([]byte, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

// heapMiB reads the server's Go heap in use from its /metrics.
func heapMiB(hc *http.Client, base string) float64 {
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f / (1 << 20)
		}
	}
	return 0
}
