package kinesisapi

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics mirror Kinesis's CloudWatch stream metrics, one label per stream. Handles are
// cached per stream so the put path does not pay for label lookups.
type metrics struct {
	incomingRecords, incomingBytes      *prometheus.CounterVec
	putRecordLatency, putRecordsLatency *prometheus.HistogramVec
	putRecordsRecords                   *prometheus.CounterVec
	getRecordsRecords, getRecordsBytes  *prometheus.CounterVec
	getRecordsLatency                   *prometheus.HistogramVec
	iteratorAge                         *prometheus.GaugeVec
	putRecordSuccess, putRecordsSuccess *prometheus.CounterVec
	getRecordsSuccess                   *prometheus.CounterVec
	outgoingRecords, outgoingBytes      *prometheus.CounterVec

	mu      sync.Mutex
	streams map[string]*streamMetrics
}

type streamMetrics struct {
	incomingRecords, incomingBytes      prometheus.Counter
	putRecordLatency, putRecordsLatency prometheus.Observer
	putRecordsOK                        prometheus.Counter
	putRecordSuccess, putRecordsSuccess prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	lat := []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	m := &metrics{
		incomingRecords:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_incoming_records_total", Help: "Kinesis IncomingRecords: records put into the stream."}, []string{"stream_name"}),
		incomingBytes:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_incoming_bytes_total", Help: "Kinesis IncomingBytes: bytes of data put into the stream."}, []string{"stream_name"}),
		putRecordLatency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_kinesis_put_record_latency_seconds", Help: "Kinesis PutRecord.Latency.", Buckets: lat}, []string{"stream_name"}),
		putRecordsLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_kinesis_put_records_latency_seconds", Help: "Kinesis PutRecords.Latency.", Buckets: lat}, []string{"stream_name"}),
		putRecordsRecords: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_put_records_records_total", Help: "Kinesis PutRecords.TotalRecords / SuccessfulRecords / FailedRecords, by result."}, []string{"stream_name", "result"}),
		putRecordSuccess:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_put_record_success_total", Help: "Kinesis PutRecord.Success: successful PutRecord calls."}, []string{"stream_name"}),
		putRecordsSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_put_records_success_total", Help: "Kinesis PutRecords.Success: successful PutRecords calls."}, []string{"stream_name"}),
		getRecordsRecords: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_get_records_records_total", Help: "Kinesis GetRecords.Records: records returned by GetRecords."}, []string{"stream_name"}),
		getRecordsBytes:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_get_records_bytes_total", Help: "Kinesis GetRecords.Bytes: bytes returned by GetRecords."}, []string{"stream_name"}),
		getRecordsLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_kinesis_get_records_latency_seconds", Help: "Kinesis GetRecords.Latency.", Buckets: lat}, []string{"stream_name"}),
		getRecordsSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_get_records_success_total", Help: "Kinesis GetRecords.Success: successful GetRecords calls."}, []string{"stream_name"}),
		iteratorAge:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "localpipe_kinesis_get_records_iterator_age_milliseconds", Help: "Kinesis GetRecords.IteratorAgeMilliseconds: age of the last record returned by the latest GetRecords call."}, []string{"stream_name"}),
		outgoingRecords:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_outgoing_records_total", Help: "Kinesis OutgoingRecords: records read from the stream."}, []string{"stream_name"}),
		outgoingBytes:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_kinesis_outgoing_bytes_total", Help: "Kinesis OutgoingBytes: bytes read from the stream."}, []string{"stream_name"}),
		streams:           map[string]*streamMetrics{},
	}
	if reg != nil {
		reg.MustRegister(m.incomingRecords, m.incomingBytes, m.putRecordLatency, m.putRecordsLatency,
			m.putRecordsRecords, m.putRecordSuccess, m.putRecordsSuccess, m.getRecordsRecords, m.getRecordsBytes,
			m.getRecordsLatency, m.getRecordsSuccess, m.iteratorAge, m.outgoingRecords, m.outgoingBytes)
	}
	return m
}

func (m *metrics) stream(name string) *streamMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[name]
	if !ok {
		s = &streamMetrics{
			incomingRecords:   m.incomingRecords.WithLabelValues(name),
			incomingBytes:     m.incomingBytes.WithLabelValues(name),
			putRecordLatency:  m.putRecordLatency.WithLabelValues(name),
			putRecordsLatency: m.putRecordsLatency.WithLabelValues(name),
			putRecordsOK:      m.putRecordsRecords.WithLabelValues(name, "successful"),
			putRecordSuccess:  m.putRecordSuccess.WithLabelValues(name),
			putRecordsSuccess: m.putRecordsSuccess.WithLabelValues(name),
		}
		m.streams[name] = s
	}
	return s
}
