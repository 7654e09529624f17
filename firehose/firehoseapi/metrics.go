package firehoseapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics mirror Firehose's CloudWatch metrics for S3 delivery, one series per delivery
// stream (label delivery_stream_name), each HELP naming the CloudWatch metric. It implements
// firehose.Metrics; pass it to firehose.Open. Series go to the Registerer given, never to a
// global one, so several servers can live in one process.
type Metrics struct {
	incomingRecords, incomingBytes   *prometheus.CounterVec
	deliveredRecords, deliveredBytes *prometheus.CounterVec
	deliveries                       *prometheus.CounterVec
	success                          *prometheus.GaugeVec
	freshness                        *prometheus.GaugeVec
	bufferBytes                      *prometheus.GaugeVec
	vecs                             []interface{ DeletePartialMatch(prometheus.Labels) int }
}

// NewMetrics registers the series with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	label := []string{"delivery_stream_name"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append(append([]string(nil), label...), labels...))
	}
	m := &Metrics{
		incomingRecords:  counter("localpipe_firehose_incoming_records_total", "Firehose IncomingRecords: records accepted by PutRecord and PutRecordBatch, or read from the Kinesis source stream."),
		incomingBytes:    counter("localpipe_firehose_incoming_bytes_total", "Firehose IncomingBytes: bytes of record data accepted by PutRecord and PutRecordBatch, or read from the Kinesis source stream."),
		deliveredRecords: counter("localpipe_firehose_delivery_to_s3_records_total", "Firehose DeliveryToS3.Records: records delivered to S3."),
		deliveredBytes:   counter("localpipe_firehose_delivery_to_s3_bytes_total", "Firehose DeliveryToS3.Bytes: bytes of record data delivered to S3 (before compression)."),
		deliveries: counter("localpipe_firehose_delivery_to_s3_success_total",
			"Firehose DeliveryToS3.Success: S3 put attempts by result (CloudWatch reports successful/total as a ratio).", "result"),
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "localpipe_firehose_delivery_to_s3_success",
			Help: "Firehose DeliveryToS3.Success of the latest S3 put attempt: 1 when it succeeded, 0 while deliveries fail and are retried."}, label),
		freshness: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "localpipe_firehose_delivery_to_s3_data_freshness_seconds",
			Help: "Firehose DeliveryToS3.DataFreshness: age of the oldest record in the latest object delivered to S3."}, label),
		bufferBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "localpipe_firehose_buffer_bytes",
			Help: "Bytes of record data buffered for the next object (Firehose reports buffering through BytesPerSecondLimit and friends; localpipe shows the buffer itself)."}, label),
	}
	m.vecs = []interface{ DeletePartialMatch(prometheus.Labels) int }{m.incomingRecords, m.incomingBytes, m.deliveredRecords,
		m.deliveredBytes, m.deliveries, m.success, m.freshness, m.bufferBytes}
	if reg != nil {
		reg.MustRegister(m.incomingRecords, m.incomingBytes, m.deliveredRecords, m.deliveredBytes, m.deliveries, m.success, m.freshness, m.bufferBytes)
	}
	return m
}

func (m *Metrics) Incoming(stream string, records, bytes int) {
	m.incomingRecords.WithLabelValues(stream).Add(float64(records))
	m.incomingBytes.WithLabelValues(stream).Add(float64(bytes))
}

func (m *Metrics) Delivered(stream string, records, bytes int, freshness time.Duration) {
	m.deliveredRecords.WithLabelValues(stream).Add(float64(records))
	m.deliveredBytes.WithLabelValues(stream).Add(float64(bytes))
	m.deliveries.WithLabelValues(stream, "success").Inc()
	m.success.WithLabelValues(stream).Set(1)
	m.freshness.WithLabelValues(stream).Set(max(freshness, 0).Seconds())
}

func (m *Metrics) DeliveryFailed(stream string) {
	m.deliveries.WithLabelValues(stream, "failure").Inc()
	m.success.WithLabelValues(stream).Set(0)
}

func (m *Metrics) Buffered(stream string, bytes int64) {
	m.bufferBytes.WithLabelValues(stream).Set(float64(bytes))
}

// Forget drops a deleted delivery stream's series, as CloudWatch stops reporting it.
func (m *Metrics) Forget(stream string) {
	for _, v := range m.vecs {
		v.DeletePartialMatch(prometheus.Labels{"delivery_stream_name": stream})
	}
}
