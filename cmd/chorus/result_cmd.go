package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const resultUsage = `get|put|list --session S ...
  get RESULT-ID [--out FILE]   write the data to FILE or standard output
  put [--id ID] DATA|@FILE|@-  create a result with data, print its id
  list [--status S]            list results`

func runResult(ctx context.Context, env *cliEnv, args []string) error {
	c, err := sessionSubcommand(env, "result", resultUsage, "", "session of the result (required)", args, "get", "put", "list")
	if c == nil {
		return err
	}
	out := c.fs.String("out", "", "get: write the data to this file instead of standard output")
	id := c.fs.String("id", "", "put: id of the new result (default: chosen by the server)")
	status := c.fs.String("status", "", "list: only results in this status (created, completed, aborted)")
	if err := c.fs.parse(c.args); err != nil {
		return err
	}
	verb, fs, cf := c.verb, c.fs, &c.cf
	st, err := parseEnum(*status, "RESULT_STATUS_", chorusv1.ResultStatus_value)
	if err != nil {
		return err
	}
	if (verb == "get" || verb == "put") && fs.NArg() != 1 {
		return fmt.Errorf("%w: chorus result %s takes one argument", errUsage, verb)
	}
	return cf.withSession(ctx, *c.session, func(ctx context.Context, s *client.Session) error {
		switch verb {
		case "get":
			var w io.Writer = env.stdout
			if *out != "" {
				f, err := os.Create(*out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			_, err := s.Download(ctx, fs.Arg(0), w)
			return err
		case "put":
			var r io.Reader
			switch a := fs.Arg(0); {
			case a == "@-":
				r = env.stdin
			case len(a) > 0 && a[0] == '@':
				f, err := os.Open(a[1:])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			default:
				r = bytes.NewReader([]byte(a))
			}
			ids, err := s.CreateResults(ctx, *id)
			if err != nil {
				return err
			}
			res, err := s.Upload(ctx, ids[0], r)
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(env.stdout, res)
			}
			fmt.Fprintln(env.stdout, res.GetResultId())
			return nil
		default:
			list, err := s.Results(ctx, chorusv1.ResultStatus(st))
			if err != nil {
				return err
			}
			return printList(env, cf, &chorusv1.ListResultsResponse{Results: list}, list, []string{"RESULT", "STATUS", "SIZE", "OWNER", "SHA256"},
				func(r *chorusv1.Result) []any {
					return []any{r.GetResultId(), resultStatus(r.GetStatus()), r.GetSizeBytes(), orDash(r.GetOwnerTaskId()), orDash(r.GetSha256())}
				})
		}
	})
}
