package agent

import "time"

// WorkerStats describes one worker process slot.
type WorkerStats struct {
	ID        string
	Partition string
	PID       int  // 0 when no process runs
	Connected bool // the process said Hello
	// OutDirsReady: the empty output folders the worker may need at once are made (they are made in
	// the background when the agent starts and when the worker connects).
	OutDirsReady bool
	Capacity     int // announced in Hello
	InFlight     int // tasks assigned to the worker now
	Prefetched   int // tasks leased for it, not yet assigned
	// MaxInFlight is the most tasks ever assigned to this slot's processes at once.
	MaxInFlight int
	Restarts    int
	// Busy is the sum over finished tasks of the time from assignment to outcome: Busy divided by
	// Capacity × elapsed time is the worker's utilization.
	Busy time.Duration
	// Messages sent to the slot's processes and the writes that carried them (a batch of several
	// messages is one write); likewise the messages received and the reads.
	MessagesSent, WritesSent, MessagesReceived, ReadsReceived int64
}

// Stats is a snapshot of the agent's workers.
type Stats struct {
	Workers []WorkerStats
	Leases  int // leases held
}

// Stats returns a snapshot of the agent's workers and leases.
func (a *Agent) Stats() Stats {
	s := Stats{Leases: a.leaseCount()}
	for _, p := range a.parts {
		for _, pr := range p.procs {
			pr.mu.Lock()
			w := WorkerStats{ID: pr.id, Partition: p.cfg.Name, Connected: pr.conn != nil, Capacity: pr.capacity,
				InFlight: len(pr.assigned), Prefetched: len(pr.queued), MaxInFlight: pr.maxInFlight, Restarts: pr.restarts, Busy: pr.busy,
				OutDirsReady: !pr.filling && pr.outDirsMadeLocked()}
			w.MessagesSent, w.WritesSent = pr.wire.sentMsgs.Load(), pr.wire.sentWrites.Load()
			w.MessagesReceived, w.ReadsReceived = pr.wire.recvMsgs.Load(), pr.wire.recvReads.Load()
			if pr.inc != nil {
				w.PID = int(pr.inc.pid.Load())
			}
			pr.mu.Unlock()
			s.Workers = append(s.Workers, w)
		}
	}
	return s
}
