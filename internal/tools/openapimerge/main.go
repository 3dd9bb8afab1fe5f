// Command openapimerge merges a hand-written OpenAPI fragment into the document protoc-gen-openapiv2
// generated (`make gen` runs it): the routes the gateway serves beside the generated ones (raw result
// data, health checks) and the document's title and version.
//
// Usage: openapimerge <generated.json> <fragment.json>; the generated file is rewritten in place.
//
// Objects merge key by key, recursively; any other fragment value replaces the generated one, and a
// null removes the key. Tags are added to the tag list unless one of the same name is there.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: openapimerge <generated.json> <fragment.json>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "openapimerge:", err)
		os.Exit(1)
	}
}

func run(docPath, fragPath string) error {
	var doc, frag map[string]any
	if err := readJSON(docPath, &doc); err != nil {
		return err
	}
	if err := readJSON(fragPath, &frag); err != nil {
		return err
	}
	if tags, ok := frag["tags"].([]any); ok {
		old, _ := doc["tags"].([]any)
		have := map[any]bool{}
		for _, t := range old {
			if m, ok := t.(map[string]any); ok {
				have[m["name"]] = true
			}
		}
		for _, t := range tags {
			if m, ok := t.(map[string]any); !ok || !have[m["name"]] {
				old = append(old, t)
			}
		}
		doc["tags"] = old
		delete(frag, "tags")
	}
	merge(doc, frag)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding the merged document: %w", err)
	}
	return os.WriteFile(docPath, buf.Bytes(), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return nil
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
			dst[k] = prune(sm)
			continue
		}
		dst[k] = v
	}
}

// prune drops null values from a fragment object copied whole.
func prune(m map[string]any) map[string]any {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		} else if sm, ok := v.(map[string]any); ok {
			prune(sm)
		}
	}
	return m
}
