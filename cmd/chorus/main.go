// Command chorus is Chorus's single binary: the all-in-one dev mode, the gateway, the agent, and the
// client commands (session, submit, watch, result, bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what commands write to; tests give their own.
type cliEnv struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"dev":     {"run an all-in-one Chorus on this machine (Valkey, gateway, agent, example workers)", runDev},
		"gateway": {"run the gateway (gRPC and REST/JSON front door)", runGateway},
		"agent":   {"run an agent (leases tasks and runs them on workers)", runAgent},
		"session": {"create, inspect and control sessions", runSession},
		"submit":  {"submit tasks", runSubmit},
		"task":    {"inspect and cancel tasks", runTask},
		"watch":   {"stream a session's events", runWatch},
		"result":  {"upload and download result data", runResult},
		"bench":   {"run the end-to-end benchmarks (own in-process stack, or --addr a gateway)", runBench},
		"token":   {"mint a JWT for a tenant (HS256), or hash an API token", runToken},
		"version": {"print the version", runVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func usage(w io.Writer) {
	fmt.Fprintf(w, "chorus — high-throughput computing orchestrator\n\nUsage: chorus <command> [flags] [args]\n\nCommands:\n")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nEvery flag can also be set by an environment variable: --grpc-addr by CHORUS_GRPC_ADDR, etc.\nRun 'chorus <command> --help' for a command's flags.\n")
}

// errUsage marks an error in the command line: exit code 2.
var errUsage = errors.New("usage error")

func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "chorus: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return 2
	}
	err := cmd.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.stderr, "chorus %s: %s\n", args[0], errorText(err))
		return 2
	default:
		fmt.Fprintf(env.stderr, "chorus %s: %s\n", args[0], errorText(err))
		return 1
	}
}

// errorText is err's message under the CLI's one prefix ("chorus <command>: "): without the
// "usage error" marker and without the SDK's own "chorus: " in front of a gateway error.
func errorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
	var ce *client.Error
	if errors.As(err, &ce) {
		msg = strings.Replace(msg, ce.Error(), ce.Op+": "+ce.Message, 1)
	}
	// Other SDK errors (aborted results, data streams) carry the same prefix.
	return strings.ReplaceAll(strings.TrimPrefix(msg, "chorus: "), ": chorus: ", ": ")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}, os.Args[1:]))
}

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "version", "")
	if err := fs.parse(args); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "chorus %s\n", version)
	return nil
}
