package kinesisapi

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/stream"
)

// metrics mirror Kinesis's CloudWatch stream-level metrics, one series per stream (label
// stream_name), each HELP naming the CloudWatch metric. They go to the Registerer passed to
// New, never to a global one, so several handlers can live in one process.
type metrics struct {
	vecs    []prometheus.Collector
	counter map[string]*prometheus.CounterVec
	hist    map[string]*prometheus.HistogramVec
	gauge   map[string]*prometheus.GaugeVec

	mu      sync.Mutex
	streams map[string]*streamMetrics
}

// streamMetrics caches one stream's series so the put and get paths skip label lookups.
type streamMetrics struct {
	incomingRecords, incomingBytes                  prometheus.Counter
	putRecordSuccess, putRecordsSuccess             prometheus.Counter
	putRecordsOK, putRecordsFailed                  prometheus.Counter
	putRecordLatency, putRecordsLatency             prometheus.Observer
	getRecordsRecords, getRecordsBytes              prometheus.Counter
	getRecordsSuccess                               prometheus.Counter
	getRecordsLatency                               prometheus.Observer
	iteratorAge                                     prometheus.Gauge
	outgoingRecords, outgoingBytes                  prometheus.Counter
	writeThroughputExceeded, readThroughputExceeded prometheus.Counter
	subscribeSuccess                                prometheus.Counter
	subscribeRecords, subscribeBytes                prometheus.Counter
}

// Metric names, exported to the documentation through the HELP texts.
var counterDefs = []struct{ name, help string }{
	{"localpipe_kinesis_incoming_records_total", "Kinesis IncomingRecords: records successfully put into the stream."},
	{"localpipe_kinesis_incoming_bytes_total", "Kinesis IncomingBytes: bytes of record data successfully put into the stream."},
	{"localpipe_kinesis_put_record_success_total", "Kinesis PutRecord.Success: successful PutRecord calls."},
	{"localpipe_kinesis_put_records_success_total", "Kinesis PutRecords.Success: PutRecords calls with at least one successful record."},
	{"localpipe_kinesis_get_records_records_total", "Kinesis GetRecords.Records: records returned by GetRecords."},
	{"localpipe_kinesis_get_records_bytes_total", "Kinesis GetRecords.Bytes: bytes of record data returned by GetRecords."},
	{"localpipe_kinesis_get_records_success_total", "Kinesis GetRecords.Success: successful GetRecords calls."},
	{"localpipe_kinesis_outgoing_records_total", "Kinesis OutgoingRecords: records read from the stream."},
	{"localpipe_kinesis_outgoing_bytes_total", "Kinesis OutgoingBytes: bytes of record data read from the stream."},
	{"localpipe_kinesis_write_provisioned_throughput_exceeded_total", "Kinesis WriteProvisionedThroughputExceeded: records refused by the per-shard write limits (only with --throttle)."},
	{"localpipe_kinesis_subscribe_to_shard_success_total", "Kinesis SubscribeToShard.Success: subscriptions started."},
	{"localpipe_kinesis_subscribe_to_shard_event_records_total", "Kinesis SubscribeToShardEvent.Records: records pushed to enhanced fan-out consumers."},
	{"localpipe_kinesis_subscribe_to_shard_event_bytes_total", "Kinesis SubscribeToShardEvent.Bytes: bytes of record data pushed to enhanced fan-out consumers."},
	{"localpipe_kinesis_read_provisioned_throughput_exceeded_total", "Kinesis ReadProvisionedThroughputExceeded: GetRecords calls refused by the per-shard read limits (only with --throttle)."},
}

const putRecordsRecordsName = "localpipe_kinesis_put_records_records_total"

func newMetrics(reg prometheus.Registerer) *metrics {
	lat := []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	m := &metrics{
		counter: map[string]*prometheus.CounterVec{},
		hist:    map[string]*prometheus.HistogramVec{},
		gauge:   map[string]*prometheus.GaugeVec{},
		streams: map[string]*streamMetrics{},
	}
	label := []string{"stream_name"}
	for _, d := range counterDefs {
		m.counter[d.name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.name, Help: d.help}, label)
	}
	m.counter[putRecordsRecordsName] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: putRecordsRecordsName,
		Help: "Kinesis PutRecords.SuccessfulRecords and PutRecords.FailedRecords (their sum is PutRecords.TotalRecords), by result."},
		[]string{"stream_name", "result"})
	for _, d := range []struct{ name, help string }{
		{"localpipe_kinesis_put_record_latency_seconds", "Kinesis PutRecord.Latency: time taken per PutRecord call."},
		{"localpipe_kinesis_put_records_latency_seconds", "Kinesis PutRecords.Latency: time taken per PutRecords call."},
		{"localpipe_kinesis_get_records_latency_seconds", "Kinesis GetRecords.Latency: time taken per GetRecords call."},
	} {
		m.hist[d.name] = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: d.name, Help: d.help, Buckets: lat}, label)
	}
	const age = "localpipe_kinesis_get_records_iterator_age_milliseconds"
	m.gauge[age] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: age,
		Help: "Kinesis GetRecords.IteratorAgeMilliseconds: age of the last record returned by the latest GetRecords call (0 when caught up)."}, label)
	for _, c := range m.counter {
		m.vecs = append(m.vecs, c)
	}
	for _, h := range m.hist {
		m.vecs = append(m.vecs, h)
	}
	for _, g := range m.gauge {
		m.vecs = append(m.vecs, g)
	}
	if reg != nil {
		reg.MustRegister(m.vecs...)
	}
	return m
}

// stream returns a stream's series, creating them (at zero) on first use.
func (m *metrics) stream(name string) *streamMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.streams[name]; ok {
		return s
	}
	c := func(n string) prometheus.Counter { return m.counter[n].WithLabelValues(name) }
	h := func(n string) prometheus.Observer { return m.hist[n].WithLabelValues(name) }
	s := &streamMetrics{
		incomingRecords:         c("localpipe_kinesis_incoming_records_total"),
		incomingBytes:           c("localpipe_kinesis_incoming_bytes_total"),
		putRecordSuccess:        c("localpipe_kinesis_put_record_success_total"),
		putRecordsSuccess:       c("localpipe_kinesis_put_records_success_total"),
		putRecordsOK:            m.counter[putRecordsRecordsName].WithLabelValues(name, "successful"),
		putRecordsFailed:        m.counter[putRecordsRecordsName].WithLabelValues(name, "failed"),
		putRecordLatency:        h("localpipe_kinesis_put_record_latency_seconds"),
		putRecordsLatency:       h("localpipe_kinesis_put_records_latency_seconds"),
		getRecordsRecords:       c("localpipe_kinesis_get_records_records_total"),
		getRecordsBytes:         c("localpipe_kinesis_get_records_bytes_total"),
		getRecordsSuccess:       c("localpipe_kinesis_get_records_success_total"),
		getRecordsLatency:       h("localpipe_kinesis_get_records_latency_seconds"),
		iteratorAge:             m.gauge["localpipe_kinesis_get_records_iterator_age_milliseconds"].WithLabelValues(name),
		outgoingRecords:         c("localpipe_kinesis_outgoing_records_total"),
		outgoingBytes:           c("localpipe_kinesis_outgoing_bytes_total"),
		writeThroughputExceeded: c("localpipe_kinesis_write_provisioned_throughput_exceeded_total"),
		readThroughputExceeded:  c("localpipe_kinesis_read_provisioned_throughput_exceeded_total"),
		subscribeSuccess:        c("localpipe_kinesis_subscribe_to_shard_success_total"),
		subscribeRecords:        c("localpipe_kinesis_subscribe_to_shard_event_records_total"),
		subscribeBytes:          c("localpipe_kinesis_subscribe_to_shard_event_bytes_total"),
	}
	m.streams[name] = s
	return s
}

// forget drops a deleted stream's series, as CloudWatch stops reporting a deleted stream.
func (m *metrics) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.streams, name)
	for _, c := range m.counter {
		c.DeletePartialMatch(prometheus.Labels{"stream_name": name})
	}
	for _, h := range m.hist {
		h.DeletePartialMatch(prometheus.Labels{"stream_name": name})
	}
	for _, g := range m.gauge {
		g.DeletePartialMatch(prometheus.Labels{"stream_name": name})
	}
}

// damageCollector reports the damage the stream engine stepped over in its shard logs. The
// engine keeps the counts itself, since it finds damage at start-up, before any handler
// exists; this reads them at each scrape. Firehose's hidden DirectPut logs are included,
// under their internal names (firehose:<delivery stream>:<created>), since damage there
// loses Firehose records.
type damageCollector struct {
	eng                     *stream.Engine
	regions, records, bytes *prometheus.Desc
}

func newDamageCollector(eng *stream.Engine) *damageCollector {
	label := []string{"stream_name", "shard_id"}
	return &damageCollector{
		eng: eng,
		regions: prometheus.NewDesc("localpipe_kinesis_damaged_regions_total",
			"localpipe only: runs of damaged bytes found in a shard's log and stepped over (each logged at error).", label, nil),
		records: prometheus.NewDesc("localpipe_kinesis_damaged_records_total",
			"localpipe only: records lost in damaged bytes of a shard's log, as far as their positions are known.", label, nil),
		bytes: prometheus.NewDesc("localpipe_kinesis_damaged_bytes_total",
			"localpipe only: damaged bytes of a shard's log stepped over.", label, nil),
	}
}

func (c *damageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.regions
	ch <- c.records
	ch <- c.bytes
}

func (c *damageCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.eng.Damage() {
		id := shardName(d.Shard)
		ch <- prometheus.MustNewConstMetric(c.regions, prometheus.CounterValue, float64(d.Regions), d.Stream, id)
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(d.Records), d.Stream, id)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(d.Bytes), d.Stream, id)
	}
}
