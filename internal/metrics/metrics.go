// Package metrics defines Bindery's Prometheus metrics in one registry:
// HTTP requests and latencies by route, sign-ins and blocks, active
// sessions, WebSocket clients, runs by state and stage durations.
//
// Labels are bounded on purpose: routes are the route table's patterns
// (never raw paths, which an attacker could vary without end), results and
// stages are fixed sets.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Sources are read at scrape time for the gauges that live elsewhere.
type Sources struct {
	ActiveSessions func(ctx context.Context) (int, error)
	RunsByState    func(ctx context.Context) (map[string]int, error)
	WSClients      func() int
}

// Metrics holds the collectors. The zero value is not usable; use New.
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	blocks   prometheus.Counter
	stages   *prometheus.HistogramVec
}

// New registers every metric, plus Go runtime and process metrics.
func New(src Sources) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bindery_http_requests_total", Help: "HTTP requests by route pattern, method and status class.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bindery_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bindery_logins_total", Help: "Sign-in attempts by result: ok, failed, blocked.",
		}, []string{"result"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bindery_address_blocks_total", Help: "Client addresses blocked for repeated failures.",
		}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bindery_stage_duration_seconds", Help: "Pipeline stage durations by stage and outcome.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"stage", "state"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.logins, m.blocks, m.stages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.WSClients != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "bindery_websocket_clients", Help: "Connected WebSocket clients.",
		}, func() float64 { return float64(src.WSClients()) }))
	}
	m.Registry.MustRegister(&storeCollector{src: src})
	return m
}

// Request records one HTTP request.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status/100)+"xx").Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// Login records a sign-in result: "ok", "failed" or "blocked".
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }

// Block records an address block.
func (m *Metrics) Block() { m.blocks.Inc() }

// Stage records a finished stage.
func (m *Metrics) Stage(stage, state string, d time.Duration) {
	m.stages.WithLabelValues(stage, state).Observe(d.Seconds())
}

// storeCollector reads gauges from the database at scrape time.
type storeCollector struct{ src Sources }

var (
	sessionsDesc = prometheus.NewDesc("bindery_active_sessions", "Unexpired browser sessions.", nil, nil)
	runsDesc     = prometheus.NewDesc("bindery_runs", "Runs by state.", []string{"state"}, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- runsDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.src.ActiveSessions != nil {
		if n, err := c.src.ActiveSessions(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if c.src.RunsByState != nil {
		if m, err := c.src.RunsByState(ctx); err == nil {
			for state, n := range m {
				ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(n), state)
			}
		}
	}
}
