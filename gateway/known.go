package gateway

import (
	"sync"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// knownCache spares SubmitTasks a store round trip or two: it remembers sessions' default partitions
// (fixed when a session is created) and, for a few seconds, partitions the store said exist.
type knownCache struct {
	mu         sync.Mutex
	sessions   map[string]sessionInfo // session id → its immutable facts
	partitions map[string]time.Time   // partition → known to exist until
}

// sessionInfo is what never changes about a session.
type sessionInfo struct {
	partition string // default partition
	tenant    string
}

const (
	knownSessionsMax = 100_000
	partitionTTL     = 5 * time.Second
)

func newKnownCache() *knownCache {
	return &knownCache{sessions: map[string]sessionInfo{}, partitions: map[string]time.Time{}}
}

func (k *knownCache) rememberSession(sess *chorusv1.Session) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.sessions) >= knownSessionsMax {
		clear(k.sessions)
	}
	k.sessions[sess.GetSessionId()] = sessionInfo{partition: sess.GetDefaultTaskOptions().GetPartition(), tenant: sess.GetTenant()}
}

func (k *knownCache) forgetSession(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.sessions, id)
}

func (k *knownCache) sessionDefaultPartition(id string) (partition string, ok bool) {
	info, ok := k.session(id)
	return info.partition, ok
}

func (k *knownCache) session(id string) (info sessionInfo, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	info, ok = k.sessions[id]
	return info, ok
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
