package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// call sends one request to the API and decodes a JSON reply into out (when
// not nil), failing the test on a transport error. It returns the status.
func call(t *testing.T, ts *httptest.Server, method, path, contentType string, body io.Reader, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d, body %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// multipartFile is a form with one file part (and extra fields).
func multipartFile(t *testing.T, name string, data []byte, fields map[string]string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

const (
	refundsV1 = "# Refunds\n\nCustomers may return a product within 30 days of delivery for a full refund.\n\n## Exceptions\n\nGift cards cannot be returned.\n"
	refundsV2 = "# Refunds\n\nCustomers may return a product within 60 days of delivery for a full refund.\n\n## Exceptions\n\nGift cards cannot be returned.\n"
)

// TestDocumentsAPI walks a document's life through the HTTP API over a real
// data folder: upload, answer citing its version, re-upload (no-op),
// change (old version no longer current), paging, delete; and collections
// that never share documents.
func TestDocumentsAPI(t *testing.T) {
	ts, _ := newHTTPServer(t)
	type errorReply struct {
		Error struct{ Code, Message string }
	}
	var created map[string]any
	if st := call(t, ts, "POST", "/v1/collections", "application/json", strings.NewReader(`{"name": "support"}`), &created); st != http.StatusCreated || created["created"] != true {
		t.Fatalf("create collection: %d %v", st, created)
	}
	if st := call(t, ts, "POST", "/v1/collections", "application/json", strings.NewReader(`{"name": "support"}`), &created); st != http.StatusOK || created["created"] != false {
		t.Fatalf("create an existing collection: %d %v", st, created)
	}

	var put grounded.PutResult
	ct, body := multipartFile(t, "refunds.md", []byte(refundsV1), nil)
	if st := call(t, ts, "POST", "/v1/documents?collection=support", ct, body, &put); st != http.StatusCreated || put.Outcome != "added" {
		t.Fatalf("upload: %d %+v", st, put)
	}
	v1 := *put.Document // a copy: put is decoded into again
	if v1.Source != "refunds.md" || v1.Chunks == 0 || v1.Version == "" || v1.Format != "markdown" {
		t.Fatalf("uploaded document %+v", v1)
	}
	ct, body = multipartFile(t, "refunds.md", []byte(refundsV1), nil)
	if st := call(t, ts, "POST", "/v1/documents?collection=support", ct, body, &put); st != http.StatusOK || put.Outcome != "unchanged" {
		t.Fatalf("re-upload of the same content: %d %+v", st, put)
	}
	// A second document, by JSON, so the collection has more than one.
	if st := call(t, ts, "POST", "/v1/documents", "application/json",
		jsonBody(map[string]string{"collection": "support", "source": "shipping", "title": "Shipping times", "text": "Orders ship within two business days."}), &put); st != http.StatusCreated || put.Document.Title != "Shipping times" || put.Document.Format != "text" {
		t.Fatalf("JSON upload: %d %+v", st, put)
	}

	const question = "Within how many days may customers return a product?"
	var ans grounded.Answer
	if st := call(t, ts, "POST", "/v1/ask", "application/json", jsonBody(map[string]any{"question": question, "collection": "support"}), &ans); st != http.StatusOK {
		t.Fatalf("ask: %d", st)
	}
	if ans.Abstained || len(ans.Citations) == 0 || !strings.Contains(ans.Answer, "30 days") {
		t.Fatalf("answer from the uploaded document: %+v", ans)
	}
	c := ans.Citations[0]
	if c.DocID != v1.ID || c.Version != v1.Version {
		t.Fatalf("citation %+v does not name document %s version %s", c, v1.ID, v1.Version)
	}
	var doc server.DocumentResponse
	if st := call(t, ts, "GET", "/v1/documents/"+c.DocID+"?collection=support&version="+c.Version, "", nil, &doc); st != http.StatusOK {
		t.Fatalf("get document: %d", st)
	}
	if doc.Current == nil || !*doc.Current || doc.Text[c.Start:c.End] != c.Quote {
		t.Fatalf("document %+v: current %v; quote %q vs text %q", doc.Document, doc.Current, c.Quote, doc.Text[c.Start:c.End])
	}

	// The default collection (the built-in corpus) knows nothing of refunds.
	var other grounded.Answer
	if st := call(t, ts, "POST", "/v1/ask", "application/json", jsonBody(map[string]any{"question": question}), &other); st != http.StatusOK || !other.Abstained {
		t.Fatalf("the default collection answered from support's document: %d %+v", st, other)
	}

	// Changed content replaces the document; the old citation's version is
	// no longer current, and answers quote the new text.
	if st := call(t, ts, "POST", "/v1/documents?collection=support", "application/json",
		jsonBody(map[string]string{"source": "refunds.md", "text": refundsV2}), &put); st != http.StatusOK || put.Outcome != "updated" || put.Document.Version == v1.Version {
		t.Fatalf("update: %d %+v", st, put)
	}
	if st := call(t, ts, "GET", "/v1/documents/"+c.DocID+"?collection=support&version="+c.Version, "", nil, &doc); st != http.StatusOK || doc.Current == nil || *doc.Current {
		t.Fatalf("the replaced version still reads as current: %d %v", st, doc.Current)
	}
	if st := call(t, ts, "POST", "/v1/ask", "application/json", jsonBody(map[string]any{"question": question, "collection": "support"}), &ans); st != http.StatusOK || !strings.Contains(ans.Answer, "60 days") {
		t.Fatalf("answer after the update: %d %+v", st, ans)
	}

	// Paging: one document per page, in source order, then no next cursor.
	var page server.DocumentList
	call(t, ts, "GET", "/v1/documents?collection=support&limit=1", "", nil, &page)
	if page.Total != 2 || len(page.Documents) != 1 || page.Documents[0].Source != "refunds.md" || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	next := page.Next
	page = server.DocumentList{}
	call(t, ts, "GET", "/v1/documents?collection=support&limit=1&after="+next, "", nil, &page)
	if len(page.Documents) != 1 || page.Documents[0].Source != "shipping" || page.Next != "" {
		t.Fatalf("second (last) page %+v", page)
	}

	var cols struct{ Collections []server.CollectionInfo }
	call(t, ts, "GET", "/v1/collections", "", nil, &cols)
	if len(cols.Collections) != 2 || cols.Collections[1].Name != "support" || cols.Collections[1].Documents != 2 {
		t.Fatalf("collections %+v", cols)
	}

	if st := call(t, ts, "DELETE", "/v1/documents/"+c.DocID+"?collection=support", "", nil, nil); st != http.StatusOK {
		t.Fatalf("delete: %d", st)
	}
	var e errorReply
	if st := call(t, ts, "GET", "/v1/documents/"+c.DocID+"?collection=support", "", nil, &e); st != http.StatusNotFound || e.Error.Code != grounded.ENOTFOUND {
		t.Fatalf("get after delete: %d %+v", st, e)
	}
	if st := call(t, ts, "DELETE", "/v1/documents/"+c.DocID+"?collection=support", "", nil, &e); st != http.StatusNotFound {
		t.Fatalf("second delete: %d", st)
	}
	if st := call(t, ts, "POST", "/v1/ask", "application/json", jsonBody(map[string]any{"question": question, "collection": "support"}), &ans); st != http.StatusOK || !ans.Abstained {
		t.Fatalf("answer after delete: %d %+v", st, ans)
	}
}
