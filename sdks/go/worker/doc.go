// Package worker is the Go worker SDK of Chorus. A worker process is launched by a Chorus agent,
// dials the agent's Unix socket (CHORUS_AGENT_SOCKET), says hello with its token
// (CHORUS_WORKER_TOKEN) and then runs the tasks the agent assigns, up to its capacity at once
// (CHORUS_WORKER_CAPACITY, default 1).
//
//	w, err := worker.New(worker.FromEnv())
//	w.HandleBytes("sha256", func(ctx context.Context, t *worker.Task) ([]byte, error) {
//		sum := sha256.Sum256(t.Payload)
//		return []byte(hex.EncodeToString(sum[:])), nil
//	})
//	err = w.Run(ctx)
//
// A handler returns one Output per expected output of its task (or hands some of them to subtasks
// with Task.Submit), or an error. Errors are retried (up to the task's max_retries) unless wrapped
// with Permanent. The handler's ctx ends when the agent cancels the task (client cancellation, session
// cancelled, max duration).
package worker

// SDKVersion is the version of this SDK, sent to the agent in Hello.
const SDKVersion = "0.1.0"
