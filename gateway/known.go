package gateway

import (
	"sync"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
)

// knownCache spares SubmitTasks a store round trip or two: it remembers sessions' default partitions
// (fixed when a session is created) and, for a few seconds, partitions the store said exist.
type knownCache struct {
	mu         sync.Mutex
	sessions   map[string]string    // session id → default partition
	partitions map[string]time.Time // partition → known to exist until
}

const (
	knownSessionsMax = 100_000
	partitionTTL     = 5 * time.Second
)

func newKnownCache() *knownCache {
	return &knownCache{sessions: map[string]string{}, partitions: map[string]time.Time{}}
}

func (k *knownCache) rememberSession(sess *chorusv1.Session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.sessions) >= knownSessionsMax {
		clear(k.sessions)
	}
	k.sessions[sess.GetSessionId()] = sess.GetDefaultTaskOptions().GetPartition()
}

func (k *knownCache) forgetSession(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.sessions, id)
}

func (k *knownCache) sessionDefaultPartition(id string) (partition string, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	partition, ok = k.sessions[id]
	return partition, ok
}

func (k *knownCache) partitionKnown(p string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	until, ok := k.partitions[p]
	return ok && now.Before(until)
}

func (k *knownCache) rememberPartition(p string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.partitions) >= 10_000 {
		clear(k.partitions)
	}
	k.partitions[p] = now.Add(partitionTTL)
}
