package s3api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/objectstore"
)

// mutating are the operations allowed to change the object or bucket the routing test sends
// every request to; any other operation leaving either changed ran something else.
var mutating = map[string]bool{
	"PutObject": true, "CopyObject": true, "DeleteObject": true, "DeleteObjects": true, "PostObject": true,
}

// ambiguousWithoutXID are operations whose request is the same as another's but for the
// x-id an SDK adds; without it S3's older operation answers.
var ambiguousWithoutXID = map[string]string{"ListDirectoryBuckets": "ListBuckets"}

// TestEveryOperationAnswersAsItself walks the model's operation table: for each operation it
// builds the request the model describes (method, path, literal and required query members,
// required headers), sends it in path and virtual-host style, with and without x-id, and
// checks that the operation that answered is that one (by the operation label of the
// request metric), that an operation localpipe does not emulate answers 501 NotImplemented
// naming itself, and that no non-mutating operation changed the object or the bucket.
func TestEveryOperationAnswersAsItself(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := objectstore.Open(objectstore.Options{DB: db, Dir: filepath.Join(dir, "s3")})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h := New(store, Options{Registerer: reg})
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const original = "original body"
	reset := func(t *testing.T) {
		t.Helper()
		serve(httptest.NewRequest("PUT", "/bkt", nil))
		if w := serve(httptest.NewRequest("PUT", "/bkt/k", strings.NewReader(original))); w.Code != 200 {
			t.Fatalf("put object: %d %s", w.Code, w.Body)
		}
	}
	counts := map[string]float64{}
	lastOp := func() string {
		// The request counter is cumulative: the operations whose counts grew since the last
		// call answered.
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var grew []string
		for _, mf := range mfs {
			if mf.GetName() != "localpipe_s3_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				key, op := "", ""
				for _, l := range m.GetLabel() {
					key += l.GetName() + "=" + l.GetValue() + ","
					if l.GetName() == "operation" {
						op = l.GetValue()
					}
				}
				if n := m.GetCounter().GetValue(); n != counts[key] {
					counts[key] = n
					grew = append(grew, op)
				}
			}
		}
		return strings.Join(grew, "+")
	}
	if len(modelOperations) < 100 {
		t.Fatalf("only %d operations in the table", len(modelOperations))
	}
	for _, op := range append(append([]operation{}, modelOperations...), extraOperations...) {
		for _, vhost := range []bool{false, true} {
			for _, withXID := range []bool{true, false} {
				if withXID && op.xid == "" {
					continue
				}
				name := op.name + map[bool]string{false: "/path", true: "/vhost"}[vhost] + map[bool]string{false: "", true: "/x-id"}[withXID]
				t.Run(name, func(t *testing.T) {
					reset(t)
					lastOp()
					r := modelRequest(op, vhost, withXID)
					w := serve(r)
					want := op.name
					if alias, ok := ambiguousWithoutXID[op.name]; ok && !withXID {
						want = alias
					}
					if got := lastOp(); got != want {
						t.Fatalf("%s %s answered as %q (%d %s), want %s", r.Method, r.URL, got, w.Code, w.Body, want)
					}
					_, emulated := operationHandlers[want]
					switch {
					case !emulated && (w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), want)):
						t.Errorf("not emulated, answered %d %s; want 501 naming %s", w.Code, w.Body, want)
					case emulated && w.Code == http.StatusNotImplemented:
						t.Errorf("emulated, answered 501 %s", w.Body)
					}
					if mutating[op.name] {
						return
					}
					if w := serve(httptest.NewRequest("GET", "/bkt/k", nil)); w.Code != 200 || w.Body.String() != original {
						t.Errorf("%s %s changed the object: now %d %q", r.Method, r.URL, w.Code, w.Body)
					}
				})
			}
		}
	}
}

// modelRequest is the request the table says op is: its method and path, its literal and
// required query members and its required headers, with placeholder values.
func modelRequest(op operation, vhost, withXID bool) *http.Request {
	q := url.Values{}
	for _, p := range op.query {
		q.Set(p.key, p.value)
	}
	for _, k := range op.requiredQuery {
		q.Set(k, map[string]string{"partNumber": "1", "max-parts": "1"}[k]+"x")
		if k == "partNumber" {
			q.Set(k, "1")
		}
	}
	if withXID {
		q.Set("x-id", op.xid)
	}
	path, host := "/", "localhost"
	switch op.target {
	case targetBucket:
		path = "/bkt"
	case targetObject:
		path = "/bkt/k"
	case targetPath:
		path = op.path
	}
	if vhost && (op.target == targetBucket || op.target == targetObject) {
		host = "bkt.s3.localhost"
		path = strings.TrimPrefix(path, "/bkt")
		if path == "" {
			path = "/"
		}
	}
	u := path
	if enc := strings.ReplaceAll(q.Encode(), "=&", "&"); enc != "" {
		u += "?" + strings.TrimSuffix(enc, "=")
	}
	r := httptest.NewRequest(op.method, u, nil)
	r.Host = host
	for _, hd := range op.requiredHeaders {
		r.Header.Set(hd, "bkt/k")
	}
	if op.form {
		r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	}
	return r
}
