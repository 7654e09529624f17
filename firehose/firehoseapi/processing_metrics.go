package firehoseapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProcessingMetrics mirror Firehose's CloudWatch metrics for data transformation
// (ExecuteProcessing.*, SucceedProcessing.*), one series per delivery stream. It implements
// firehose.ProcessingMetrics.
type ProcessingMetrics struct {
	duration       *prometheus.HistogramVec
	invocations    *prometheus.CounterVec
	records, bytes *prometheus.CounterVec
}

// NewProcessingMetrics registers the series with reg (nil: not registered).
func NewProcessingMetrics(reg prometheus.Registerer) *ProcessingMetrics {
	label := []string{"delivery_stream_name"}
	m := &ProcessingMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_firehose_execute_processing_duration_seconds",
			Help: "Firehose ExecuteProcessing.Duration: time each Lambda processor invocation took.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 8)}, label),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_firehose_execute_processing_success_total",
			Help: "Firehose ExecuteProcessing.Success: Lambda processor invocations by result (CloudWatch reports successful/total as a ratio)."}, append(label, "result")),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_firehose_succeed_processing_records_total",
			Help: "Firehose SucceedProcessing.Records: records the function answered Ok or Dropped."}, label),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_firehose_succeed_processing_bytes_total",
			Help: "Firehose SucceedProcessing.Bytes: bytes of the records the function answered Ok, as transformed."}, label),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.invocations, m.records, m.bytes)
	}
	return m
}

func (m *ProcessingMetrics) Invoked(stream string, d time.Duration, ok bool) {
	m.duration.WithLabelValues(stream).Observe(d.Seconds())
	result := "success"
	if !ok {
		result = "failure"
	}
	m.invocations.WithLabelValues(stream, result).Inc()
}

func (m *ProcessingMetrics) Processed(stream string, records, bytes int) {
	m.records.WithLabelValues(stream).Add(float64(records))
	m.bytes.WithLabelValues(stream).Add(float64(bytes))
}

// Forget drops a deleted delivery stream's series.
func (m *ProcessingMetrics) Forget(stream string) {
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{m.duration, m.invocations, m.records, m.bytes} {
		v.DeletePartialMatch(prometheus.Labels{"delivery_stream_name": stream})
	}
}
