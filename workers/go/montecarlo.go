package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chorus-hpc/chorus/sdks/go/worker"
)

// partial is what the demo's pricing tasks return and mc_reduce merges: sums over discounted payoffs.
type partial struct {
	N     int64   `json:"n"`
	Sum   float64 `json:"sum"`
	SumSq float64 `json:"sumsq"`
}

// mcReduce merges the partial sums of its inputs (the demo's reducer tree).
func mcReduce(_ context.Context, t *worker.Task) ([]byte, error) {
	var total partial
	for _, in := range t.Inputs {
		b, err := in.Bytes()
		if err != nil {
			return nil, err
		}
		var p partial
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, worker.Permanent(fmt.Errorf("mc_reduce: input %s is not a partial sum: %v", in.ResultID, err))
		}
		total.N += p.N
		total.Sum += p.Sum
		total.SumSq += p.SumSq
	}
	return json.Marshal(total)
}
