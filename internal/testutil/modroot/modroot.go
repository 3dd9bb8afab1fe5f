// Package modroot finds the module's root folder from a test, where the tools the tests run (bin/…)
// are installed. Tests run in their package's folder, somewhere below it.
package modroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Find returns the nearest folder holding a go.mod, from the working folder up.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod above the working folder")
		}
		dir = parent
	}
}
