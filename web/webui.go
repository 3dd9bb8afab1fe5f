// Package webui is Chorus's web dashboard: the frontend built from web/src (Preact + TypeScript, bundled
// by Vite into web/dist, which is committed; see docs/contributing.md) embedded in the binary, and the
// HTTP handler that serves it. The dashboard reads only the public REST API, so serving files is all
// the Go side does.
package webui

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the dashboard: a file of the build when the path names one, else index.html, so the
// dashboard's own routes (/sessions/{id}, ...) load the page on a reload or a shared link. Only GET and
// HEAD are answered; other methods get 405.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil { // cannot happen: dist is embedded above
		panic(err)
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		index = []byte("<!doctype html><title>Chorus</title><p>The dashboard was not built into this binary: run <code>make web</code> and rebuild.</p>")
	}
	static := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard answers only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") { // names carry a content hash
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				static.ServeHTTP(w, r)
				return
			}
			if strings.HasPrefix(name, "assets/") {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}
