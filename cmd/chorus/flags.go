package main

import (
	"flag"
	"fmt"
	"strings"
)

// flags is a flag set whose every flag also reads CHORUS_<NAME> from the environment (the command
// line wins).
type flags struct {
	*flag.FlagSet
	env  *cliEnv
	name string
}

func newFlags(env *cliEnv, name, argsUsage string) *flags {
	fs := flag.NewFlagSet("chorus "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	f := &flags{FlagSet: fs, env: env, name: name}
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: chorus %s [flags] %s\n\nFlags (each also read from CHORUS_<FLAG_NAME>):\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return f
}

// envName returns the environment variable of a flag: grpc-addr → CHORUS_GRPC_ADDR.
func envName(flagName string) string {
	return "CHORUS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse applies environment variables to flags not given on the command line, then parses args.
// Flags may come before, after or between positional arguments ("--" ends the flags).
func (f *flags) parse(args []string) error {
	var positional []string
	for len(args) > 0 {
		if err := f.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := f.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if err := f.Parse(append([]string{"--"}, positional...)); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v := f.env.getenv(envName(fl.Name)); v != "" {
			if e := fl.Value.Set(v); e != nil {
				err = fmt.Errorf("%w: environment variable %s=%q: %v", errUsage, envName(fl.Name), v, e)
			}
		}
	})
	return err
}

// stringList is a repeatable (or comma-separated) string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// keyValues is a repeatable key=value flag.
type keyValues map[string]string

func (kv keyValues) String() string {
	parts := make([]string, 0, len(kv))
	for k, v := range kv {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (kv keyValues) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	kv[k] = val
	return nil
}

// subcommand splits "VERB args..." for commands with subcommands (session, task, result). With no
// verb, an unknown one, or --help it prints usage and returns ok=false with the error to return.
func subcommand(env *cliEnv, command, usage string, args []string, verbs ...string) (verb string, rest []string, ok bool, err error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintf(env.stdout, "Usage: chorus %s %s\n", command, usage)
		return "", nil, false, nil
	}
	if len(args) == 0 {
		return "", nil, false, fmt.Errorf("%w: want a subcommand: %s", errUsage, usage)
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], true, nil
		}
	}
	return "", nil, false, fmt.Errorf("%w: unknown %s subcommand %q (want %s)", errUsage, command, args[0], usage)
}
