package s3api

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/objectstore"
)

// metrics mirror S3's CloudWatch request metrics per bucket (label bucket; "" for calls
// without one), each HELP naming the CloudWatch metric.
type metrics struct {
	requests   *prometheus.CounterVec
	errors     *prometheus.CounterVec
	uploaded   *prometheus.CounterVec
	downloaded *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_s3_requests_total",
			Help: "S3 AllRequests (and, by the method label, GetRequests, PutRequests, …): requests by bucket, HTTP method and operation."},
			[]string{"bucket", "method", "operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_s3_errors_total",
			Help: "S3 4xxErrors and 5xxErrors: failed requests by bucket and status class."}, []string{"bucket", "class"}),
		uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_s3_bytes_uploaded_total",
			Help: "S3 BytesUploaded: request body bytes stored."}, []string{"bucket"}),
		downloaded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_s3_bytes_downloaded_total",
			Help: "S3 BytesDownloaded: object bytes sent."}, []string{"bucket"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_s3_total_request_latency_seconds",
			Help:    "S3 TotalRequestLatency: time from the first byte received to the last byte sent.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"bucket"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.errors, m.uploaded, m.downloaded, m.latency)
	}
	return m
}

func (m *metrics) observe(q *request, d time.Duration) {
	op := q.op
	if op == "" {
		op = "Unknown"
	}
	bucket := q.metricBucket()
	method := q.r.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(bucket, method, op).Inc()
	switch {
	case q.status >= 500:
		m.errors.WithLabelValues(bucket, "5xx").Inc()
	case q.status >= 400:
		m.errors.WithLabelValues(bucket, "4xx").Inc()
	}
	m.latency.WithLabelValues(bucket).Observe(d.Seconds())
}

// metricBucket is the request's bucket label. A failed request may name a bucket that does
// not exist, or bytes that are no bucket name at all (which the Prometheus client refuses
// with a panic when they are not UTF-8); those share the label "", so made-up names do not
// each grow a series. A request that succeeded named a bucket that exists.
func (q *request) metricBucket() string {
	if q.bucket == "" || q.status > 0 && q.status < 400 {
		return q.bucket
	}
	if !objectstore.ValidBucketName(q.bucket) {
		return ""
	}
	if _, err := q.h.store.HeadBucket(q.r.Context(), q.bucket); err != nil {
		return ""
	}
	return q.bucket
}

func (m *metrics) upload(bucket string, n int64) { m.uploaded.WithLabelValues(bucket).Add(float64(n)) }

func (m *metrics) download(bucket string, n int64) {
	m.downloaded.WithLabelValues(bucket).Add(float64(n))
}
