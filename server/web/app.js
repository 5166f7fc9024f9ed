// grounded's web page: ask a collection a question and read the passages
// behind the answer; list, upload and delete its documents; check an answer
// written elsewhere against passages (POST /v1/check).
//
// Plain JavaScript over the JSON API (server/server.go, server/documents.go).
// Everything taken from the server is inserted with textContent, never as
// HTML. An API key, when the server asks for one (401), is kept in
// sessionStorage and sent as "Authorization: Bearer KEY" on every request.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const KEY = "grounded.apiKey";

  // Abstention reasons (grounded.go) in words.
  const REASONS = {
    no_evidence: "None of its documents mention what the question is about.",
    weak_evidence: "Some passages touch on the question, but none of them covers enough of it.",
    name_mismatch: "The closest passages lack a name or number the question mentions, so they are about something else.",
    no_answer_of_type: "The passages discuss the subject but hold nothing of the kind the question asks for (such as a date, a number or a name).",
    negation_mismatch: "The question is negated, but the passages that match it are not.",
    model_abstained: "The language model found that the passages do not answer the question.",
    unsupported_answer: "Too little of the language model's answer was supported by the passages it cited.",
  };

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // ---- requests ----

  function authHeaders(extra) {
    const h = new Headers(extra || {});
    const key = sessionStorage.getItem(KEY);
    if (key) h.set("Authorization", "Bearer " + key);
    return h;
  }

  // request sends one API request and returns the response, or throws an
  // APIError made of the server's {"error": {"code", "message"}}.
  async function request(method, url, opts = {}) {
    const init = { method, headers: authHeaders(opts.accept ? { Accept: opts.accept } : null) };
    if (opts.json !== undefined) {
      init.headers.set("Content-Type", "application/json");
      init.body = JSON.stringify(opts.json);
    } else if (opts.body) {
      init.body = opts.body; // FormData sets its own Content-Type
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      throw new APIError(0, "network", "could not reach the server (" + e.message + ")");
    }
    if (!resp.ok) throw await errorOf(resp);
    return resp;
  }

  async function errorOf(resp) {
    let code = "http_" + resp.status;
    let message = resp.statusText || "the request failed";
    try {
      const body = await resp.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (_) {
      // not JSON: keep the status line
    }
    if (resp.status === 401) needKey(message);
    return new APIError(resp.status, code, message);
  }

  async function getJSON(url) {
    return (await request("GET", url)).json();
  }

  function showError(el, err) {
    if (err.status === 401) return; // the key panel says it
    el.hidden = false;
    const where = err.status ? ", HTTP " + err.status : "";
    el.textContent = "Error: " + (err.message || String(err)) + " (" + (err.code || "error") + where + ")";
  }

  function hide(el) {
    el.hidden = true;
    el.textContent = "";
  }

  // ---- API key ----

  function needKey(message) {
    const had = sessionStorage.getItem(KEY);
    $("key-panel").hidden = false;
    $("key-message").textContent = had
      ? "The server did not accept the key: " + message
      : "This server needs an API key. Enter it to continue; it is kept for this browser tab only.";
    $("key").focus();
  }

  function useKey(ev) {
    ev.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    $("key").value = "";
    $("key-panel").hidden = true;
    loadCollections();
  }

  // ---- collections ----

  function collection() {
    return $("collection").value || "default";
  }

  function docCount(n) {
    return n + (n === 1 ? " document" : " documents");
  }

  // loadCollections fills the selector, keeping the chosen collection, and
  // with reload also lists its documents.
  async function loadCollections(reload = true) {
    const sel = $("collection");
    const chosen = sel.value;
    let list;
    try {
      list = (await getJSON("/v1/collections")).collections || [];
    } catch (e) {
      showError($("ask-error"), e);
      return;
    }
    if (reload) hide($("ask-error")); // a failed start, now past
    if (list.length === 0) list = [{ name: "default", documents: 0 }];
    sel.replaceChildren(...list.map((c) => {
      const o = document.createElement("option");
      o.value = c.name;
      o.textContent = c.name + " (" + docCount(c.documents) + ")";
      return o;
    }));
    if (list.some((c) => c.name === chosen)) sel.value = chosen;
    if (reload) loadDocuments(true);
  }

  // ---- asking ----

  let streamed = 0; // sentences shown while the answer streams

  function resetAnswer() {
    hide($("ask-error"));
    hide($("abstention"));
    hide($("withdrawn"));
    $("answer").hidden = true;
    $("answer-text").replaceChildren();
    $("answer-meta").textContent = "";
    $("passage").hidden = true;
    streamed = 0;
    delete $("answer").dataset.streamed;
  }

  async function ask(ev) {
    ev.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    const col = collection();
    resetAnswer();
    $("ask").disabled = true;
    $("progress").textContent = "Looking for the answer in " + col + "…";
    try {
      const resp = await request("POST", "/v1/ask", {
        json: { question, collection: col, stream: true },
        accept: "text/event-stream",
      });
      if (!(resp.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
        render(await resp.json(), col); // answered whole
        return;
      }
      let answered = false;
      for await (const ev of events(resp.body)) {
        if (ev.event === "sentence") {
          addSentence(JSON.parse(ev.data));
        } else if (ev.event === "answer") {
          render(JSON.parse(ev.data), col);
          answered = true;
        } else if (ev.event === "error") {
          const e = JSON.parse(ev.data).error || {};
          throw new APIError(0, e.code, e.message);
        }
      }
      if (!answered) throw new APIError(0, "stream_ended", "the answer stream ended before the answer arrived");
    } catch (e) {
      if (streamed > 0) $("answer").hidden = true; // unchecked as a whole
      showError($("ask-error"), e);
    } finally {
      $("ask").disabled = false;
      $("progress").textContent = "";
    }
  }

  // events reads Server-Sent Events from a response body: {event, data}
  // for each complete event (EventSource cannot POST).
  async function* events(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // an unterminated last event is dropped, as EventSource does
        buf += decoder.decode(value, { stream: true });
        // Line ends may be CRLF, CR or LF; a CR at the end may be half a CRLF.
        const cr = buf.endsWith("\r");
        buf = buf.replace(/\r\n?/g, "\n");
        if (cr) buf = buf.slice(0, -1) + "\r";
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const ev = parseEvent(buf.slice(0, i));
          buf = buf.slice(i + 2);
          if (ev) yield ev;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const c = line.indexOf(":");
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? "" : line.slice(c + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    return data.length ? { event, data: data.join("\n") } : null;
  }

  // addSentence shows a sentence that passed its check while the rest of
  // the answer is still coming; its markers become buttons in the final answer.
  function addSentence(s) {
    const span = document.createElement("span");
    span.className = "streaming";
    const marks = (s.citations || []).map((n) => "[" + n + "]").join("");
    span.textContent = (streamed > 0 ? " " : "") + s.text + (marks ? " " + marks : "");
    $("answer-text").append(span);
    $("answer").hidden = false;
    streamed++;
    $("answer").dataset.streamed = String(streamed);
    $("progress").textContent = "Checking the answer against the passages… " + streamed + " sentence" + (streamed === 1 ? "" : "s") + " so far.";
  }

  function reasonText(code) {
    return REASONS[code] || (code ? "Reason: " + code + "." : "");
  }

  // render shows the final answer: its text with each [n] marker a button
  // that reveals the cited passage, or the abstention.
  function render(ans, col) {
    const text = $("answer-text");
    text.replaceChildren(); // the streamed sentences are replaced
    if (ans.abstained) {
      $("answer").hidden = true;
      const box = $("abstention");
      const strong = document.createElement("strong");
      strong.textContent = "grounded cannot answer this from its documents.";
      const why = document.createElement("span");
      why.textContent = " " + reasonText(ans.reason);
      box.replaceChildren(strong, why);
      if (streamed > 0) {
        const note = document.createElement("span");
        note.textContent = " The sentences shown while it was checking are withdrawn.";
        box.append(note);
      }
      box.dataset.reason = ans.reason || "";
      box.hidden = false;
      return;
    }
    const cites = new Map((ans.citations || []).map((c) => [c.n, c]));
    let last = 0;
    for (const m of (ans.answer || "").matchAll(/\[(\d+)\]/g)) {
      text.append(ans.answer.slice(last, m.index));
      const c = cites.get(Number(m[1]));
      text.append(c ? citeButton(c, col) : m[0]);
      last = m.index + m[0].length;
    }
    text.append((ans.answer || "").slice(last));

    const withdrawn = ans.withdrawn_sentences || 0;
    if (withdrawn > 0) {
      const w = $("withdrawn");
      w.textContent = withdrawn + (withdrawn === 1 ? " sentence" : " sentences") +
        " shown while answering " + (withdrawn === 1 ? "was" : "were") +
        " withdrawn; the answer below replaces " + (withdrawn === 1 ? "it." : "them.");
      w.hidden = false;
    }
    const meta = [];
    let by = "Answered by the " + (ans.generator || "unknown") + " answerer";
    if (ans.model) by += " (" + (ans.provider ? ans.provider + " " : "") + ans.model + ")";
    meta.push(by + " from " + cites.size + (cites.size === 1 ? " passage." : " passages."));
    if (typeof ans.confidence === "number") meta.push("Confidence " + Math.round(ans.confidence * 100) + "% (the estimated chance that this answer is right).");
    if (ans.fallback_reason) meta.push("The language model failed (" + ans.fallback_reason + "), so the answer was taken from the passages directly.");
    const dropped = (ans.unsupported || []).length;
    if (dropped > 0) meta.push(dropped + (dropped === 1 ? " sentence was" : " sentences were") + " left out: the passages do not support " + (dropped === 1 ? "it." : "them."));
    $("answer-meta").textContent = meta.join(" ");
    $("answer").hidden = false;
  }

  function citeButton(c, col) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "cite";
    b.textContent = "[" + c.n + "]";
    b.dataset.n = String(c.n);
    b.setAttribute("aria-label", "Show passage " + c.n + " (" + (c.title || c.source) + ")");
    b.setAttribute("aria-controls", "passage");
    b.setAttribute("aria-expanded", "false");
    b.addEventListener("click", () => showPassage(c, col, b));
    return b;
  }

  // showPassage reveals the cited passage with where it comes from, and
  // asks the server whether the quoted version of the document is current.
  function showPassage(c, col, button) {
    const panel = $("passage");
    const open = button.getAttribute("aria-expanded") === "true";
    for (const b of $("answer-text").querySelectorAll("button.cite")) b.setAttribute("aria-expanded", "false");
    if (open) {
      panel.hidden = true;
      return;
    }
    button.setAttribute("aria-expanded", "true");
    $("passage-title").textContent = "Passage [" + c.n + "]";
    $("passage-quote").textContent = c.quote;
    panel.dataset.n = String(c.n);
    const dl = $("passage-facts");
    dl.replaceChildren();
    const fact = (name, value) => {
      if (!value) return null;
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value;
      dl.append(dt, dd);
      return dd;
    };
    fact("Source", c.source);
    fact("Title", c.title);
    fact("Section", c.section);
    fact("Location", c.location);
    fact("Position", c.end > c.start ? "bytes " + c.start + "–" + c.end : "");
    const version = fact("Version", c.version);
    panel.hidden = false;
    if (version && c.doc_id) checkVersion(c, col, version);
  }

  async function checkVersion(c, col, dd) {
    const url = "/v1/documents/" + enc(c.doc_id) + "?collection=" + enc(col) + "&version=" + enc(c.version);
    let note;
    try {
      const doc = await getJSON(url);
      note = doc.current ? " (current)" : " (the document has changed since; current version " + doc.version + ")";
    } catch (e) {
      note = e.status === 404 ? " (the document has since been deleted)" : "";
    }
    if (dd.isConnected) dd.textContent = c.version + note;
  }

  // ---- documents ----

  let docsNext = "";
  let docsLoad = 0; // the latest listing; earlier ones are dropped

  async function loadDocuments(reset) {
    const col = collection();
    const seq = ++docsLoad;
    let url = "/v1/documents?collection=" + enc(col) + "&limit=50";
    if (!reset && docsNext) url += "&after=" + enc(docsNext);
    let page;
    try {
      page = await getJSON(url);
    } catch (e) {
      if (seq === docsLoad) showError($("docs-error"), e);
      return;
    }
    if (seq !== docsLoad) return;
    hide($("docs-error"));
    const body = $("docs-body");
    if (reset) body.replaceChildren();
    for (const d of page.documents || []) body.append(docRow(d, col));
    docsNext = page.next || "";
    $("more").hidden = !docsNext;
    $("docs-count").textContent = docCount(page.total || 0) + " in " + col +
      (page.total > body.rows.length ? ", " + body.rows.length + " shown." : ".");
  }

  function docRow(d, col) {
    const tr = document.createElement("tr");
    tr.dataset.id = d.id;
    const cell = (value, cls) => {
      const td = document.createElement("td");
      if (cls) td.className = cls;
      if (value instanceof Node) td.append(value);
      else td.textContent = value == null ? "" : String(value);
      tr.append(td);
    };
    const doc = document.createElement("div");
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = d.title || d.source;
    const source = document.createElement("div");
    source.className = "source";
    source.textContent = d.source;
    doc.append(title, source);
    cell(doc);
    cell(d.chunks || 0, "num");
    const t = document.createElement("time");
    t.dateTime = d.ingested_at || "";
    t.title = d.ingested_at || "";
    const when = new Date(d.ingested_at);
    t.textContent = isNaN(when) ? (d.ingested_at || "") : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    cell(t, "when");
    const del = document.createElement("button");
    del.type = "button";
    del.className = "danger";
    del.textContent = "Delete";
    del.setAttribute("aria-label", "Delete " + d.source);
    del.addEventListener("click", () => remove(d, col));
    cell(del);
    return tr;
  }

  async function remove(d, col) {
    if (!window.confirm("Delete " + d.source + " from " + col + "?")) return;
    try {
      await request("DELETE", "/v1/documents/" + enc(d.id) + "?collection=" + enc(col));
      $("upload-status").textContent = "Deleted " + d.source + ".";
    } catch (e) {
      showError($("docs-error"), e);
      return;
    }
    await loadDocuments(true);
    loadCollections(false);
  }

  async function upload(ev) {
    ev.preventDefault();
    const file = $("file").files[0];
    if (!file) return;
    const col = collection();
    const form = new FormData();
    form.append("file", file, file.name);
    hide($("docs-error"));
    $("upload").disabled = true;
    $("upload-status").textContent = "Uploading " + file.name + "…";
    try {
      const res = await (await request("POST", "/v1/documents?collection=" + enc(col), { body: form })).json();
      const d = res.document || {};
      const name = d.source || file.name;
      const chunks = d.chunks ? " (" + d.chunks + (d.chunks === 1 ? " chunk)" : " chunks)") : "";
      const said = {
        added: "Added " + name + chunks + ".",
        updated: "Updated " + name + chunks + ": its old passages were replaced.",
        unchanged: name + " is unchanged; nothing to do.",
      };
      $("upload-status").textContent = said[res.outcome] || (res.outcome + ": " + name);
      $("upload-status").dataset.outcome = res.outcome || "";
      $("upload-form").reset();
    } catch (e) {
      $("upload-status").textContent = "";
      showError($("docs-error"), e);
      return;
    } finally {
      $("upload").disabled = false;
    }
    await loadDocuments(true);
    loadCollections(false);
  }

  // ---- checking an answer written elsewhere ----

  // addPassage adds a numbered passage field to the check form.
  function addPassage(text = "") {
    const box = $("check-passages");
    const n = box.querySelectorAll("textarea").length + 1;
    const row = document.createElement("div");
    row.className = "passage-field";
    const label = document.createElement("label");
    label.htmlFor = "check-passage-" + n;
    label.textContent = "[" + n + "]";
    const area = document.createElement("textarea");
    area.id = "check-passage-" + n;
    area.rows = 2;
    area.value = text;
    area.setAttribute("aria-label", "Passage " + n);
    row.append(label, area);
    box.append(row);
    return area;
  }

  const VERDICTS = { supported: "Supported", unsupported: "Unsupported", contradicted: "Contradicted" };

  async function checkAnswer(ev) {
    ev.preventDefault();
    const answer = $("check-answer").value.trim();
    if (!answer) return;
    const body = { answer, collection: collection() };
    const question = $("check-question").value.trim();
    if (question) {
      body.question = question;
    } else {
      // Passages keep their numbers: an empty field in the middle is an error, not a renumbering.
      const texts = [...$("check-passages").querySelectorAll("textarea")].map((t) => t.value);
      while (texts.length > 0 && texts[texts.length - 1].trim() === "") texts.pop();
      body.passages = texts.map((text) => ({ text }));
    }
    hide($("check-error"));
    $("check-result").hidden = true;
    $("check").disabled = true;
    try {
      renderCheck(await (await request("POST", "/v1/check", { json: body })).json());
    } catch (e) {
      showError($("check-error"), e);
    } finally {
      $("check").disabled = false;
    }
  }

  // renderCheck shows each sentence with its verdict, reason and the
  // evidence quoted from its passage.
  function renderCheck(res) {
    const n = (res.sentences || []).length;
    const parts = [res.supported + " of " + n + (n === 1 ? " sentence" : " sentences") + " supported"];
    if (res.contradicted) parts.push(res.contradicted + " contradicted");
    if (res.reattributed_citations) parts.push(res.reattributed_citations + " re-attributed to the passage that supports " + (res.reattributed_citations === 1 ? "it" : "them"));
    if (res.invalid_citations) parts.push(res.invalid_citations + (res.invalid_citations === 1 ? " marker names" : " markers name") + " no passage");
    $("check-summary").textContent = "Groundedness " + Number(res.score).toFixed(2) + ": " + parts.join(", ") + ".";
    const list = $("check-sentences");
    list.replaceChildren(...(res.sentences || []).map((st) => {
      const li = document.createElement("li");
      li.dataset.verdict = st.verdict;
      const badge = document.createElement("span");
      badge.className = "verdict";
      badge.textContent = VERDICTS[st.verdict] || st.verdict;
      const text = document.createElement("span");
      text.className = "text";
      const marks = (st.citations || []).map((c) => "[" + c + "]").join("");
      text.textContent = st.text + (marks ? " " + marks : "");
      const score = document.createElement("span");
      score.className = "muted small";
      score.textContent = " (score " + Number(st.score).toFixed(2) + ")";
      const reason = document.createElement("p");
      reason.className = "reason small";
      reason.textContent = st.reason || "";
      li.append(badge, text, score, reason);
      if (st.evidence) {
        const quote = document.createElement("blockquote");
        quote.className = "evidence";
        quote.textContent = st.evidence.quote;
        const where = document.createElement("p");
        where.className = "muted small";
        where.textContent = (st.verdict === "supported" ? "Evidence" : "Closest passage text") + ": passage [" + st.evidence.passage + "], bytes " + st.evidence.start + "–" + st.evidence.end;
        li.append(quote, where);
      }
      return li;
    }));
    const sources = res.passages || [];
    $("check-sources-list").replaceChildren(...sources.map((p) => {
      const li = document.createElement("li");
      li.textContent = p.source + (p.section ? " > " + p.section : "") + " (" + (p.chunk_id || p.doc_id) + ")";
      return li;
    }));
    $("check-sources").hidden = sources.length === 0;
    $("check-result").hidden = false;
  }

  // ---- start ----

  $("key-form").addEventListener("submit", useKey);
  $("ask-form").addEventListener("submit", ask);
  $("upload-form").addEventListener("submit", upload);
  $("more").addEventListener("click", () => loadDocuments(false));
  $("check-form").addEventListener("submit", checkAnswer);
  $("check-add").addEventListener("click", () => addPassage().focus());
  addPassage();
  addPassage();
  $("collection").addEventListener("change", () => {
    resetAnswer();
    $("upload-status").textContent = "";
    loadDocuments(true);
  });
  $("question").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  loadCollections();
})();
