package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log"

	"github.com/chorus-hpc/chorus/sdks/go/worker"
)

// A worker process launched by a Chorus agent serves sha256 until the agent drains it.
func Example() {
	w, err := worker.New(worker.FromEnv())
	if err != nil {
		log.Fatal(err) // not launched by an agent
	}
	w.HandleBytes("sha256", func(ctx context.Context, t *worker.Task) ([]byte, error) {
		sum := sha256.Sum256(t.Payload)
		return []byte(hex.EncodeToString(sum[:])), nil
	})
	if err := w.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
