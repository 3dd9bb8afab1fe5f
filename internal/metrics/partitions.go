// Package metrics holds the instruments Chorus processes export for Prometheus. Labels are low
// cardinality only (partition, status, outcome): session, task and result ids never become labels.
package metrics

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// PartitionLister is what the partition gauges read (store.Store satisfies it).
type PartitionLister interface {
	ListPartitions(ctx context.Context) ([]*chorusv1.Partition, error)
}

// RegisterPartitionGauges exports, per partition, the queue depth (the autoscaling signal), the
// tasks per status, and the capacity and number of live agents. The store is read at most once per
// maxAge however often the metrics are scraped. It returns a function that unregisters the gauges.
func RegisterPartitionGauges(meter metric.Meter, st PartitionLister, maxAge time.Duration) (func() error, error) {
	gauges := make([]metric.Int64ObservableGauge, 4)
	for i, g := range []struct{ name, desc, unit string }{
		{"chorus.partition.queue_depth", "Tasks ready and waiting in the partition's queues.", "{task}"},
		{"chorus.partition.tasks", "Tasks of the partition per status.", "{task}"},
		{"chorus.partition.capacity", "Task slots of the live agents serving the partition.", "{slot}"},
		{"chorus.partition.agents", "Live agents serving the partition.", "{agent}"},
	} {
		var err error
		if gauges[i], err = meter.Int64ObservableGauge(g.name, metric.WithDescription(g.desc), metric.WithUnit(g.unit)); err != nil {
			return nil, err
		}
	}
	depth, tasks, capacity, agents := gauges[0], gauges[1], gauges[2], gauges[3]
	var (
		mu   sync.Mutex
		last []*chorusv1.Partition
		at   time.Time
	)
	read := func(ctx context.Context) []*chorusv1.Partition {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < maxAge && last != nil {
			return last
		}
		ps, err := st.ListPartitions(ctx)
		if err != nil {
			return last // keep the last known values while the store is unreachable
		}
		last, at = ps, time.Now()
		return last
	}
	reg, err := meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for _, p := range read(ctx) {
			part := attribute.String("partition", p.GetPartitionId())
			o.ObserveInt64(depth, p.GetQueueDepth(), metric.WithAttributes(part))
			o.ObserveInt64(capacity, int64(p.GetTotalCapacity()), metric.WithAttributes(part))
			o.ObserveInt64(agents, int64(len(p.GetAgents())), metric.WithAttributes(part))
			c := p.GetTaskCounts()
			for _, s := range []struct {
				name string
				n    int64
			}{
				{"pending", c.GetPending()}, {"queued", c.GetQueued()}, {"dispatched", c.GetDispatched()}, {"running", c.GetRunning()},
				{"completed", c.GetCompleted()}, {"failed", c.GetFailed()}, {"cancelled", c.GetCancelled()},
			} {
				o.ObserveInt64(tasks, s.n, metric.WithAttributes(part, attribute.String("status", s.name)))
			}
		}
		return nil
	}, depth, tasks, capacity, agents)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
