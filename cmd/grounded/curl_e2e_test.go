package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
)

// checkPassages and readmeCheck are README's POST /v1/check example.
var checkPassages = []string{"Shipping is free on orders over 50 euros.", "Refunds are paid within 14 days of the return."}

const readmeCheck = `{"answer": "Refunds are paid within 14 days [1]. Shipping is free on orders over 50 euros [1]. Returns are accepted for 90 days [2].", "passages": [{"text": "Shipping is free on orders over 50 euros.", "source": "shipping.md"}, {"text": "Refunds are paid within 14 days of the return.", "source": "refunds.md"}]}`

// TestCurl runs README's curl commands against a real `grounded serve`:
// the curl people type, not a Go client.
func TestCurl(t *testing.T) {
	curlBin, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("GROUNDED_REQUIRE_JS") == "1" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	dir := t.TempDir()
	addr, _ := startServe(t, "--data", filepath.Join(dir, "data"))
	base := "http://" + addr
	curl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curlBin, append([]string{"-sS", "--max-time", "30"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %q: %v", args, err)
		}
		return string(out)
	}
	decode := func(raw string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(raw), v); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
	}

	var ans grounded.Answer
	decode(curl("--json", `{"question": "Why do language models hallucinate?", "k": 5}`, base+"/v1/ask"), &ans)
	if ans.Abstained || len(ans.Citations) == 0 {
		t.Fatalf("ask: %+v", ans)
	}
	var created map[string]any
	decode(curl("--json", `{"name": "support"}`, base+"/v1/collections"), &created)
	if created["created"] != true {
		t.Fatalf("create collection: %v", created)
	}
	file := filepath.Join(dir, "refunds.md")
	if err := os.WriteFile(file, []byte("# Refunds\n\nRefunds are paid within 14 days of the return.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var put grounded.PutResult
	decode(curl("-F", "file=@"+file, base+"/v1/documents?collection=support"), &put)
	if put.Outcome != "added" || put.Document.Source != "refunds.md" {
		t.Fatalf("upload: %+v", put)
	}
	decode(curl("--json", `{"question": "Within how many days are refunds paid?", "collection": "support"}`, base+"/v1/ask"), &ans)
	if ans.Abstained || !strings.Contains(ans.Answer, "14 days") || ans.Citations[0].Version != put.Document.Version {
		t.Fatalf("ask the uploaded document: %+v", ans)
	}
	// Streaming: sentence events, then the answer event.
	stream := curl("-N", "--json", `{"question": "Can a large language model generate images?", "stream": true}`, base+"/v1/ask")
	if !strings.Contains(stream, "event: sentence\ndata: ") || !strings.Contains(stream, "event: answer\ndata: ") {
		t.Fatalf("stream: %q", stream)
	}
	// README's groundedness check: one sentence cited to the wrong passage
	// (re-attributed), one supported, one that no passage supports (the
	// checker may call it contradicted: the passage gives another number of
	// days).
	var chk grounded.CheckResult
	decode(curl("--json", readmeCheck, base+"/v1/check"), &chk)
	if len(chk.Sentences) != 3 || chk.ReattributedCitations != 1 || chk.Supported != 2 || chk.Unsupported+chk.Contradicted != 1 ||
		chk.Sentences[0].Citations[0] != 2 || !strings.Contains(chk.Sentences[0].Reason, "re-attributed") {
		t.Fatalf("check: %+v", chk)
	}
	for _, st := range chk.Sentences[:2] {
		if ev := st.Evidence; ev == nil || ev.Quote != checkPassages[ev.Passage-1] || ev.Start != 0 || ev.End != len(ev.Quote) {
			t.Errorf("check: evidence %+v", st.Evidence)
		}
	}
	// curl -d without --json sends a form: refused with a hint.
	var e struct {
		Error struct{ Code, Message string }
	}
	decode(curl("-d", `{"question": "x"}`, base+"/v1/ask"), &e)
	if e.Error.Code != grounded.EUNSUPPORTED || !strings.Contains(e.Error.Message, "--json") {
		t.Fatalf("form body: %+v", e)
	}
	var health map[string]any
	decode(curl(base+"/healthz"), &health)
	if health["status"] != "ok" {
		t.Fatalf("healthz: %v", health)
	}
}
