package grounded_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries holds the architecture's lines (README "Project
// structure"): the domain package imports only the standard library, each
// third-party library is imported by its one adapter, adapters never
// import each other, and inside answer/ imports point down the layers
// (support, then the grounding protocol, then its users); test helper
// packages are imported by tests only.
func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const mod = "github.com/groundedhq/grounded"
	// Which package may import a library (by import path prefix).
	owners := map[string]string{
		"github.com/gin-gonic/gin":           mod + "/server",
		"github.com/philippgille/chromem-go": mod + "/retrieval/vector",
		"github.com/pkoukk/tiktoken-go":      mod + "/ingest",
		"github.com/ledongthuc/pdf":          mod + "/ingest/pdf",
		"modernc.org/sqlite":                 mod + "/store",
		"github.com/tmc/langchaingo/llms/":   mod + "/provider",
		"github.com/prometheus/":             mod + "/server",
	}
	// Test-only packages hold helpers shared by tests; only _test files may
	// import them (go list's Imports leave out test imports), and they are
	// the only packages whose non-test files may import "testing".
	testOnly := map[string]bool{mod + "/ingest/internal/ingesttest": true}
	// Leaves import nothing of the module but the domain package.
	leaves := map[string]bool{mod + "/ingest/pdf": true}
	adapters := []string{"/ingest", "/store", "/retrieval", "/answer", "/server", "/provider"}
	adapterOf := func(p string) string {
		for _, a := range adapters {
			if p == mod+a || strings.HasPrefix(p, mod+a+"/") {
				return a
			}
		}
		return ""
	}
	// Layers inside answer/: a package may import only lower ones.
	layer := map[string]int{
		mod + "/answer/support":   0,
		mod + "/answer/grounding": 1,
		mod + "/answer":           2,
		mod + "/answer/extract":   2,
		mod + "/answer/check":     2,
		mod + "/answer/summarize": 3,
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Standard   bool
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		for _, imp := range p.Imports {
			if p.ImportPath == mod && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("the domain package imports %s; it may import only the standard library", imp)
			}
			for lib, owner := range owners {
				if strings.HasPrefix(imp, lib) && !strings.HasPrefix(p.ImportPath, owner) {
					t.Errorf("%s imports %s; only %s may", p.ImportPath, imp, owner)
				}
			}
			if testOnly[imp] {
				t.Errorf("%s imports %s outside its _test files; only tests may", p.ImportPath, imp)
			}
			if imp == "testing" && !testOnly[p.ImportPath] {
				t.Errorf("%s imports testing outside its _test files; shared test helpers belong in a test-only package", p.ImportPath)
			}
			if leaves[p.ImportPath] && strings.HasPrefix(imp, mod+"/") {
				t.Errorf("%s imports %s; it may import only the domain package of this module", p.ImportPath, imp)
			}
			if from, to := adapterOf(p.ImportPath), adapterOf(imp); from != "" && to != "" && from != to {
				t.Errorf("adapter %s imports adapter %s; wire them in cmd/ instead", p.ImportPath, imp)
			}
			if from, ok := layer[p.ImportPath]; ok && strings.HasPrefix(imp, mod+"/answer") {
				if to, ok := layer[imp]; !ok || to >= from {
					t.Errorf("%s imports %s; inside answer/ imports point down: support, grounding, answer, extract and check, summarize", p.ImportPath, imp)
				}
			}
		}
	}
	if seen < 6 {
		t.Fatalf("go list saw %d packages", seen)
	}
}
