package gatewayapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/localpipe/localpipe/gateway"
)

// metrics are API Gateway's CloudWatch metrics for REST APIs, one series per API, stage,
// resource and method (the dimensions ApiName, Stage, Resource and Method), each HELP naming
// the CloudWatch metric. Requests that reach no deployed stage have nowhere to count.
type metrics struct {
	count, err4, err5   *prometheus.CounterVec
	latency, intLatency *prometheus.HistogramVec
}

var metricLabels = []string{"api", "api_id", "stage", "resource", "method"}

func newMetrics(reg prometheus.Registerer) *metrics {
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 30}
	m := &metrics{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_apigateway_count_total",
			Help: "API Gateway Count: API requests."}, metricLabels),
		err4: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_apigateway_4xxerror_total",
			Help: "API Gateway 4XXError: requests answered with a 4xx status."}, metricLabels),
		err5: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "localpipe_apigateway_5xxerror_total",
			Help: "API Gateway 5XXError: requests answered with a 5xx status."}, metricLabels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_apigateway_latency_seconds",
			Help:    "API Gateway Latency: time from receiving a request to sending the response.",
			Buckets: buckets}, metricLabels),
		intLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "localpipe_apigateway_integration_latency_seconds",
			Help:    "API Gateway IntegrationLatency: time from calling the back end to its answer.",
			Buckets: buckets}, metricLabels),
	}
	if reg != nil {
		reg.MustRegister(m.count, m.err4, m.err5, m.latency, m.intLatency)
	}
	return m
}

// series are one label set's metrics, looked up once per deployment, stage and method.
type series struct {
	count, err4, err5   prometheus.Counter
	latency, intLatency prometheus.Observer
}

type seriesKey struct {
	stage string
	p     *gateway.MethodPlan
}

func (m *metrics) series(d *gateway.DeploymentPlan, stage string, p *gateway.MethodPlan) *series {
	k := seriesKey{stage, p}
	if s, ok := d.Series.Load(k); ok {
		return s.(*series)
	}
	res, method := "", ""
	if p != nil {
		res, method = p.Resource.Path, p.Method.HTTPMethod
	}
	l := []string{d.API.Name, d.API.ID, stage, res, method}
	s := &series{
		count: m.count.WithLabelValues(l...), err4: m.err4.WithLabelValues(l...), err5: m.err5.WithLabelValues(l...),
		latency: m.latency.WithLabelValues(l...), intLatency: m.intLatency.WithLabelValues(l...),
	}
	actual, _ := d.Series.LoadOrStore(k, s)
	return actual.(*series)
}

func (m *metrics) observe(q *call) {
	if q.d == nil {
		return
	}
	if _, ok := q.d.Stages[q.stageName]; !ok {
		return
	}
	s := m.series(q.d, q.stageName, q.p)
	s.count.Inc()
	switch {
	case q.status >= 500:
		s.err5.Inc()
	case q.status >= 400:
		s.err4.Inc()
	}
	s.latency.Observe(q.s.now().Sub(q.start).Seconds())
	if q.called {
		s.intLatency.Observe(q.integrationLatency.Seconds())
	}
}
