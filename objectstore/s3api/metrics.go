package s3api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	m.requests.WithLabelValues(q.bucket, q.r.Method, op).Inc()
	switch {
	case q.status >= 500:
		m.errors.WithLabelValues(q.bucket, "5xx").Inc()
	case q.status >= 400:
		m.errors.WithLabelValues(q.bucket, "4xx").Inc()
	}
	m.latency.WithLabelValues(q.bucket).Observe(d.Seconds())
}

func (m *metrics) upload(bucket string, n int64) { m.uploaded.WithLabelValues(bucket).Add(float64(n)) }

func (m *metrics) download(bucket string, n int64) {
	m.downloaded.WithLabelValues(bucket).Add(float64(n))
}
