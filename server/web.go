package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// The web page:
//
//	GET /                 -> web/index.html, with a strict Content-Security-Policy
//	GET /static/{file}    -> the page's script, style sheet and icon from web/
//
// The page is plain HTML with one script (web/app.js) that speaks the JSON
// API above; nothing is loaded from elsewhere and there is no build step.
// The page names its assets with ?v=HASH of their contents, so a browser may
// keep a file that carries the current hash for a year; any other request
// for it is revalidated against its ETag.

//go:embed web
var webFiles embed.FS

// pageCSP lets the page load only its own script, style sheet and icon, and
// talk only to its own origin. No inline script or style is allowed.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// staticTypes are the content types of the files the page is made of.
var staticTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".html": "text/html; charset=utf-8",
}

// asset is one embedded file, ready to serve.
type asset struct {
	data  []byte
	ctype string
	etag  string // quoted
	hash  string // the ?v= value that may be cached for good
}

// web serves the page and its assets.
type web struct {
	page   asset
	assets map[string]asset // by name under web/
}

// newWeb reads the embedded files once. It fails only when the embedded
// tree itself is broken, which the tests catch.
func newWeb() (*web, error) {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	w := &web{assets: map[string]asset{}}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		w.assets[name] = newAsset(name, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	index, ok := w.assets["index.html"]
	if !ok {
		return nil, fs.ErrNotExist
	}
	// Point the page at the current version of each asset.
	html := index.data
	for name, a := range w.assets {
		html = bytes.ReplaceAll(html, []byte(`"/static/`+name+`"`), []byte(`"/static/`+name+`?v=`+a.hash+`"`))
	}
	w.page = newAsset("index.html", html)
	return w, nil
}

func newAsset(name string, data []byte) asset {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:8])
	ctype, ok := staticTypes[path.Ext(name)]
	if !ok {
		ctype = mime.TypeByExtension(path.Ext(name))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return asset{data: data, ctype: ctype, etag: `"` + hash + `"`, hash: hash}
}

// registerWeb adds GET (and HEAD) / and /static/*file to r.
func registerWeb(r *gin.Engine) {
	w, err := newWeb()
	if err != nil {
		failed := func(c *gin.Context) {
			writeError(c, grounded.Errorf(grounded.EINTERNAL, "the web page is not built into this binary: %v", err))
		}
		r.GET("/", failed)
		r.GET("/static/*file", failed)
		return
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.Handle(m, "/", w.index)
		r.Handle(m, "/static/*file", w.static)
	}
}

func (w *web) index(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.serve(c, w.page)
}

func (w *web) static(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	a, ok := w.assets[name]
	if !ok || name == "index.html" {
		writeError(c, grounded.Errorf(grounded.ENOTFOUND, "no static file %q", name))
		return
	}
	if c.Query("v") == a.hash {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	w.serve(c, a)
}

// serve writes a with its type and ETag; a request that holds the ETag
// gets 304.
func (w *web) serve(c *gin.Context, a asset) {
	h := c.Writer.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.data))
}
