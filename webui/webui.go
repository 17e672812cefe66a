// Package webui serves two browser pages for the API: a GraphiQL playground
// and OpenAPI documentation rendered by Swagger UI.
//
// Every byte the pages need is embedded in the binary (go:embed): SOC networks
// are often air-gapped, so nothing may be loaded from a CDN at run time. The
// third-party bundles in assets/ are vendored from npm by update-assets.sh
// (versions and licences in assets/VERSIONS.txt); static/ holds our own HTML
// templates and the small bootstrap scripts.
//
// Each handler serves its page for any request path ending in "/" and its
// assets under "assets/<name>" relative to that, so it works whether or not the
// caller strips the mount prefix:
//
//	mux.Handle("/playground/", webui.Playground("/graphql"))
//	mux.Handle("/docs/", http.StripPrefix("/docs", webui.APIDocs("/api/v1/openapi.json")))
//
// The page uses relative asset URLs, so the mount point must be reached with
// its trailing slash (redirect "/playground" to "/playground/").
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed assets/*.js assets/*.css static
var files embed.FS

// asset is one embedded JS or CSS file.
type asset struct {
	body    []byte
	ctype   string
	version string // content hash, used as ?v= cache buster and ETag
}

// Explicit types rather than mime.TypeByExtension, which can be overridden by
// the host's mime tables (e.g. .js as text/plain breaks script loading under
// X-Content-Type-Options: nosniff).
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

var (
	allAssets = loadAssets()
	templates = template.Must(template.New("").
			Funcs(template.FuncMap{"asset": func(string) string { return "" }}). // replaced per page
			ParseFS(files, "static/*.html"))
)

func loadAssets() map[string]*asset {
	m := make(map[string]*asset)
	for _, dir := range []string{"assets", "static"} {
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			panic(err)
		}
		for _, e := range entries {
			ctype, ok := contentTypes[path.Ext(e.Name())]
			if e.IsDir() || !ok {
				continue
			}
			if m[e.Name()] != nil {
				panic("webui: duplicate asset name " + e.Name())
			}
			body, err := files.ReadFile(dir + "/" + e.Name())
			if err != nil {
				panic(err)
			}
			sum := sha256.Sum256(body)
			m[e.Name()] = &asset{body: body, ctype: ctype, version: hex.EncodeToString(sum[:6])}
		}
	}
	return m
}

// Playground returns a handler for the GraphiQL playground. Queries are POSTed
// to graphqlEndpoint (e.g. "/graphql"), with the headers from GraphiQL's
// headers editor, which is pre-filled with an Authorization hint and persisted
// in the browser's localStorage.
func Playground(graphqlEndpoint string) http.Handler {
	return newPage("playground.html", struct{ Endpoint string }{graphqlEndpoint}, graphqlEndpoint)
}

// APIDocs returns a handler for the API documentation page, which renders the
// OpenAPI document fetched from specURL (e.g. "/api/v1/openapi.json").
func APIDocs(specURL string) http.Handler {
	return newPage("docs.html", struct{ SpecURL string }{specURL}, specURL)
}

// page is an HTML page rendered once at construction plus the assets it uses.
type page struct {
	html   []byte
	etag   string
	csp    string
	assets map[string]*asset // only what the page references; others are 404
}

func newPage(name string, data any, fetchURL string) *page {
	p := &page{assets: make(map[string]*asset)}
	t := template.Must(templates.Lookup(name).Clone()).Funcs(template.FuncMap{
		// Versioned relative URL: relative so any mount point works, versioned
		// so assets can be cached as immutable across upgrades.
		"asset": func(n string) (string, error) {
			a := allAssets[n]
			if a == nil {
				return "", fmt.Errorf("webui: unknown asset %q", n)
			}
			p.assets[n] = a
			return "assets/" + n + "?v=" + a.version, nil
		},
	})
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		panic(err) // a bug in the embedded templates, not a run-time condition
	}
	p.html = buf.Bytes()
	sum := sha256.Sum256(p.html)
	p.etag = `"` + hex.EncodeToString(sum[:6]) + `"`
	p.csp = contentSecurityPolicy(fetchURL)
	return p
}

// contentSecurityPolicy allows only same-origin resources. No 'unsafe-inline'
// or 'unsafe-eval' is needed: the bootstrap code lives in separate files, and
// the browser test fails on any CSP violation. data: images are used by the
// bundled CSS (icons). If the page must fetch from another origin (an absolute
// endpoint or spec URL), that origin is added to connect-src.
func contentSecurityPolicy(fetchURL string) string {
	connect := "'self'"
	if u, err := url.Parse(fetchURL); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src " + connect + "; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")

	dir, name := path.Split(r.URL.Path)
	switch {
	case name == "" && !strings.HasSuffix(dir, "assets/"):
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", p.csp)
		h.Set("Cache-Control", "no-cache") // revalidate: it names the current asset versions
		h.Set("ETag", p.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.html))
	case (dir == "assets/" || strings.HasSuffix(dir, "/assets/")) && p.assets[name] != nil:
		a := p.assets[name]
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	default:
		http.NotFound(w, r)
	}
}
