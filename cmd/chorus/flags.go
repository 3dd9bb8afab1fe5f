package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flags is a flag set whose every flag also reads CHORUS_<NAME> from the environment (the command
// line wins).
type flags struct {
	*flag.FlagSet
	env       *cliEnv
	name      string
	argsUsage string
	required  []requiredFlag // checked by parse
}

// requiredFlag is a string flag parse requires to be set; hint follows the error.
type requiredFlag struct {
	name, hint string
	value      *string
}

// requiredString defines a string flag (empty by default) that parse requires to be set, saying
// hint after the error when it is not.
func (f *flags) requiredString(name, usage, hint string) *string {
	p := f.String(name, "", usage)
	f.required = append(f.required, requiredFlag{name: name, hint: hint, value: p})
	return p
}

func newFlags(env *cliEnv, name, argsUsage string) *flags {
	fs := flag.NewFlagSet("chorus "+name, flag.ContinueOnError)
	// The flag package prints the whole usage on any error; parse reports a short hint instead, and
	// the usage is printed only for -h/--help.
	fs.SetOutput(io.Discard)
	f := &flags{FlagSet: fs, env: env, name: name, argsUsage: argsUsage}
	fs.Usage = func() {}
	return f
}

// printUsage writes the command's usage and flags (for -h/--help).
func (f *flags) printUsage(argsUsage string) {
	if argsUsage != "" {
		argsUsage = " " + argsUsage
	}
	fmt.Fprintf(f.env.stderr, "Usage: chorus %s [flags]%s\n\nFlags (each also read from CHORUS_<FLAG_NAME>):\n", f.name, argsUsage)
	f.SetOutput(f.env.stderr)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parseError turns the flag package's error into a short hint: the flag, the closest known one, and
// where the full list is.
func (f *flags) parseError(err error) error {
	msg := err.Error()
	help := fmt.Sprintf("'chorus %s --help' lists the flags", f.name)
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if near := f.closest(name); near != "" {
			return fmt.Errorf("%w: unknown flag --%s: did you mean --%s? (%s)", errUsage, name, near, help)
		}
		return fmt.Errorf("%w: unknown flag --%s (%s)", errUsage, name, help)
	}
	return fmt.Errorf("%w: %v (%s)", errUsage, err, help)
}

// closest returns the defined flag nearest to name: within an edit distance of max(2, len/3), or
// one that name abbreviates; "" when none is near.
func (f *flags) closest(name string) string {
	best, bestD := "", -1
	limit := max(2, len(name)/3)
	f.VisitAll(func(fl *flag.Flag) {
		d := editDistance(name, fl.Name)
		if d > limit && !strings.HasPrefix(fl.Name, name) {
			return
		}
		if bestD < 0 || d < bestD {
			best, bestD = fl.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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
				f.printUsage(f.argsUsage)
				return err
			}
			return f.parseError(err)
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
		return f.parseError(err)
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
	if err != nil {
		return err
	}
	for _, r := range f.required {
		if *r.value == "" {
			return fmt.Errorf("%w: --%s is required%s", errUsage, r.name, r.hint)
		}
	}
	return nil
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

// verbCall is one call of a command with subcommands: its verb, the arguments after it, and the
// verb's flag set with the client flags registered.
type verbCall struct {
	verb    string
	args    []string
	fs      *flags
	cf      clientFlags
	session *string // --session, for commands on one session's tasks or results
}

// subcommand splits "VERB args..." for commands with subcommands (session, task, result) and makes
// the verb's flag set (argsUsage names its positional arguments). With no verb, an unknown one, or
// --help it prints usage and returns nil with the error to return.
func subcommand(env *cliEnv, command, usage, argsUsage string, args []string, verbs ...string) (*verbCall, error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintf(env.stdout, "Usage: chorus %s %s\n", command, usage)
		return nil, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: want a subcommand: %s", errUsage, usage)
	}
	for _, v := range verbs {
		if args[0] == v {
			c := &verbCall{verb: v, args: args[1:], fs: newFlags(env, command+" "+v, argsUsage)}
			c.cf.register(c.fs)
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: unknown %s subcommand %q (want %s)", errUsage, command, args[0], usage)
}

// sessionSubcommand is subcommand for the commands on one session's tasks or results: the verb's
// flags include --session (described by sessionHelp), which parsing requires.
func sessionSubcommand(env *cliEnv, command, usage, argsUsage, sessionHelp string, args []string, verbs ...string) (*verbCall, error) {
	c, err := subcommand(env, command, usage, argsUsage, args, verbs...)
	if c != nil {
		c.session = c.fs.requiredString("session", sessionHelp, "")
	}
	return c, err
}
