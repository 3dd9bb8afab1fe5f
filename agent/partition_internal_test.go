package agent

import "testing"

// TestClaimBatchFollowsSlots: without a claim_batch, a claim leases up to half the partition's
// slots (at least 64); a configured claim_batch is used as it is.
func TestClaimBatchFollowsSlots(t *testing.T) {
	for _, c := range []struct {
		configured, processes, capacity, want int
	}{
		{0, 2, 1000, 1000},
		{0, 1, 4, 64},
		{0, 4, 50, 100},
		{16, 2, 1000, 16},
	} {
		p := &partition{a: &Agent{cfg: Config{ClaimBatch: c.configured}}, cfg: PartitionConfig{Processes: c.processes, Capacity: c.capacity}}
		if got := p.claimBatch(); got != c.want {
			t.Errorf("claim_batch %d, %d processes × capacity %d: claims of %d, want %d", c.configured, c.processes, c.capacity, got, c.want)
		}
	}
}
