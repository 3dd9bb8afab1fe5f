package main

import (
	"context"
	"fmt"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const taskUsage = "get|list|cancel --session S [task-id...]"

func runTask(ctx context.Context, env *cliEnv, args []string) error {
	c, err := sessionSubcommand(env, "task", taskUsage, "[task-id...]", "session of the tasks (required)", args, "get", "list", "cancel")
	if c == nil {
		return err
	}
	status := c.fs.String("status", "", "list: only tasks in this status (pending, queued, running, completed, failed, ...)")
	if err := c.fs.parse(c.args); err != nil {
		return err
	}
	verb, fs, cf := c.verb, c.fs, &c.cf
	if verb != "list" && fs.NArg() == 0 {
		return fmt.Errorf("%w: chorus task %s needs at least one task id", errUsage, verb)
	}
	st, err := parseEnum(*status, "TASK_STATUS_", chorusv1.TaskStatus_value)
	if err != nil {
		return err
	}
	return cf.withSession(ctx, *c.session, func(ctx context.Context, s *client.Session) error {
		switch verb {
		case "cancel":
			n, err := s.CancelTasks(ctx, fs.Args()...)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%d task(s) cancelled\n", n)
			return nil
		case "get":
			var tasks []*chorusv1.Task
			for _, id := range fs.Args() {
				t, err := s.Task(ctx, id)
				if err != nil {
					return err
				}
				tasks = append(tasks, t)
			}
			return printTasks(env, cf, tasks, true)
		default:
			tasks, err := s.Tasks(ctx, chorusv1.TaskStatus(st))
			if err != nil {
				return err
			}
			return printTasks(env, cf, tasks, false)
		}
	})
}

func printTasks(env *cliEnv, cf *clientFlags, tasks []*chorusv1.Task, detail bool) error {
	if cf.output == "json" {
		if detail && len(tasks) == 1 {
			return printJSON(env.stdout, tasks[0])
		}
		return printJSON(env.stdout, &chorusv1.ListTasksResponse{Tasks: tasks})
	}
	tw := table(env.stdout, "TASK", "METHOD", "STATUS", "PARTITION", "ATTEMPTS", "ERROR")
	for _, t := range tasks {
		row(tw, t.GetTaskId(), t.GetMethod(), taskStatus(t.GetStatus()), t.GetOptions().GetPartition(), len(t.GetAttempts()), orDash(t.GetError().GetMessage()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if detail {
		for _, t := range tasks {
			for _, a := range t.GetAttempts() {
				fmt.Fprintf(env.stdout, "  %s attempt %d on %s: %s → %s %s\n", t.GetTaskId(), a.GetNumber(), orDash(a.GetAgentId()),
					when(a.GetDispatchTime()), when(a.GetEndTime()), a.GetError().GetMessage())
			}
		}
	}
	return nil
}
