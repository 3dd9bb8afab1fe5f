// Command importgroups checks that every Go file named on its command line imports in at most three
// groups, in this order, one blank line between them: the standard library, third-party modules,
// then the module named by -local. goimports sorts the lines of a group but leaves a group of the
// wrong kind, or one out of order, where it stands; this check catches both. With -w it rewrites
// such a file's import block into the three groups instead (run goimports after it to sort them).
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
)

// kind is where an import comes from, in the order its group must stand.
type kind int

const (
	std kind = iota
	thirdParty
	local
)

func (k kind) String() string {
	return [...]string{"standard library", "third-party", "local"}[k]
}

func kindOf(path, localPrefix string) kind {
	switch {
	case path == localPrefix || strings.HasPrefix(path, localPrefix+"/"):
		return local
	case strings.Contains(strings.SplitN(path, "/", 2)[0], "."):
		return thirdParty
	default:
		return std
	}
}

// check returns what is wrong with the imports of one file.
func check(fset *token.FileSet, name, localPrefix string) ([]string, error) {
	f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var problems []string
	var seen []kind // the kind of each group so far
	lastLine := -1
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return nil, err
		}
		k := kindOf(path, localPrefix)
		start := fset.Position(imp.Pos()).Line
		if imp.Doc != nil {
			start = fset.Position(imp.Doc.Pos()).Line
		}
		line := fset.Position(imp.End()).Line
		at := fmt.Sprintf("%s:%d", name, fset.Position(imp.Pos()).Line)
		switch {
		case len(seen) == 0 || start > lastLine+1: // a new group
			for _, s := range seen {
				if s == k {
					problems = append(problems, fmt.Sprintf("%s: a second group of %s imports (%q); keep them in one group", at, k, path))
				} else if s > k {
					problems = append(problems, fmt.Sprintf("%s: %s import %q after a group of %s imports", at, k, path, s))
				}
			}
			seen = append(seen, k)
		case seen[len(seen)-1] != k:
			problems = append(problems, fmt.Sprintf("%s: %s import %q in a group of %s imports; separate the groups with a blank line", at, k, path, seen[len(seen)-1]))
		}
		lastLine = line
	}
	return problems, nil
}

// regroup rewrites the import block of a file into its three groups, each import keeping its comments
// and its order within the group.
func regroup(fset *token.FileSet, name, localPrefix string) error {
	src, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return err
	}
	var block *ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			if block != nil || !g.Lparen.IsValid() {
				return fmt.Errorf("%s: more than one import declaration, or one without parentheses: merge them first (goimports does)", name)
			}
			block = g
		}
	}
	if block == nil {
		return nil
	}
	file := fset.File(f.Pos())
	lineStart := func(p token.Pos) int { return file.Offset(file.LineStart(file.Line(p))) }
	lineEnd := func(p token.Pos) int {
		if l := file.Line(p); l < file.LineCount() {
			return file.Offset(file.LineStart(l + 1))
		}
		return len(src)
	}
	var groups [3][]string
	for _, spec := range block.Specs {
		imp := spec.(*ast.ImportSpec)
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return err
		}
		from := imp.Pos()
		if imp.Doc != nil {
			from = imp.Doc.Pos()
		}
		text := string(src[lineStart(from):lineEnd(imp.End())])
		k := kindOf(path, localPrefix)
		groups[k] = append(groups[k], text)
	}
	body := src[lineEnd(block.Lparen):lineStart(block.Rparen)]
	if len(strings.Join(strings.Fields(string(body)), "")) != len(strings.Join(strings.Fields(strings.Join(slices.Concat(groups[:]...), "")), "")) {
		return fmt.Errorf("%s: a comment in the import block belongs to no import; move it, then run again", name)
	}
	var out strings.Builder
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		out.WriteString(strings.Join(g, ""))
	}
	rewritten := slices.Concat(src[:lineEnd(block.Lparen)], []byte(out.String()), src[lineStart(block.Rparen):])
	return os.WriteFile(name, rewritten, 0o644)
}

func main() {
	write := flag.Bool("w", false, "rewrite the import block of a file whose imports are out of their groups")
	localPrefix := flag.String("local", "", "import path prefix of this repository's own packages")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: importgroups [-w] -local PREFIX FILE.go...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *localPrefix == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	fset := token.NewFileSet()
	bad := 0
	for _, name := range flag.Args() {
		problems, err := check(fset, name, *localPrefix)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if *write && len(problems) > 0 {
			if err := regroup(fset, name, *localPrefix); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			continue
		}
		for _, p := range problems {
			fmt.Println(p)
		}
		bad += len(problems)
	}
	if bad > 0 {
		fmt.Printf("%d import(s) out of their group: standard library, then third-party, then %s, one blank line between groups\n", bad, *localPrefix)
		os.Exit(1)
	}
}
