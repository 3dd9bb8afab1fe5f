package auth

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"

	"gopkg.in/yaml.v3"
)

// TenantSettings are what one tenant may use. Zero values mean "no limit".
type TenantSettings struct {
	// Partitions the tenant's tasks may run on; empty: every partition.
	Partitions []string `yaml:"partitions"`
	// MaxSessions is the most sessions the tenant may hold that are not purged.
	MaxSessions int64 `yaml:"max_sessions"`
	// MaxQueuedTasks is the most tasks the tenant may have submitted and not yet finished (pending,
	// queued, dispatched or running), over all its sessions.
	MaxQueuedTasks int64 `yaml:"max_queued_tasks"`
}

// AllowsPartition reports whether the tenant's tasks may run on partition p.
func (t TenantSettings) AllowsPartition(p string) bool {
	return len(t.Partitions) == 0 || slices.Contains(t.Partitions, p)
}

type tenantsFile struct {
	Default TenantSettings            `yaml:"default"`
	Tenants map[string]TenantSettings `yaml:"tenants"`
}

// Tenants are the per-tenant settings of a tenants file, read again when it changes:
//
//	default:                  # tenants not listed below
//	  max_sessions: 100
//	tenants:
//	  acme:
//	    partitions: [python-cpu, go]
//	    max_sessions: 1000
//	    max_queued_tasks: 1000000
type Tenants struct {
	f *fileValue[tenantsFile]
}

// LoadTenants reads a tenants file. An empty path gives settings without limits for every tenant.
func LoadTenants(path string, log *slog.Logger) (*Tenants, error) {
	if path == "" {
		return &Tenants{}, nil
	}
	f, err := newFileValue("tenants file", []string{path}, log, func(c [][]byte) (tenantsFile, error) {
		var tf tenantsFile
		dec := yaml.NewDecoder(bytes.NewReader(c[0]))
		dec.KnownFields(true)
		if err := dec.Decode(&tf); err != nil {
			return tf, fmt.Errorf("not a tenants file (default: {...}, tenants: {name: {partitions, max_sessions, max_queued_tasks}}): %w", err)
		}
		for name, t := range tf.Tenants {
			if !validTenant(name) {
				return tf, fmt.Errorf("tenant name %q is not valid (letters, digits, '.', '_', '-')", name)
			}
			if t.MaxSessions < 0 || t.MaxQueuedTasks < 0 {
				return tf, fmt.Errorf("tenant %q: quotas must not be negative", name)
			}
		}
		return tf, nil
	})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Tenants{f: f}, nil
}

// Get returns a tenant's settings (the default ones for a tenant the file does not list).
func (t *Tenants) Get(tenant string) TenantSettings {
	if t == nil || t.f == nil {
		return TenantSettings{}
	}
	tf := t.f.get()
	if s, ok := tf.Tenants[tenant]; ok {
		return s
	}
	return tf.Default
}
