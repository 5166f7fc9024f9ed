package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// OpenAI-compatible chat API, so that any OpenAI client can use grounded as a
// model:
//
//	POST /v1/chat/completions  OpenAI's chat request -> a chat.completion, or
//	                           with "stream": true chat.completion.chunk SSE
//	GET  /v1/models            {"object": "list", "data": [model...]}
//	GET  /v1/models/{id}       one model
//
// Models are collections: "grounded" answers from the collection "default",
// "grounded/NAME" from the collection NAME; any other name is a 404. A request
// may also name the collection in an extra top-level "collection" field (or
// ?collection=), and restrict the passages with "where" as /v1/ask does.
//
// The question is the text of the last user message. System and developer
// messages, assistant turns and tool messages are not used for retrieval.
// When the question is a follow-up (see followUp: fewer than three words,
// opening with "and", "what about" and the like, or holding a pronoun such
// as "it" or "they"), the earlier user turns it leans on are put before it
// in the retrieval query (see retrievalQuery); grounding.query shows the
// query that was used.
//
// The reply's content is the answer with its [n] markers; an abstention is a
// sentence saying grounded cannot answer from its documents and why, with
// finish_reason "stop" all the same. The extra top-level "grounding" field
// carries what an OpenAI reply has no place for: abstention, citations with
// exact quotes and versions, per-sentence support scores.
//
// Sampling and tool fields of the request (temperature, top_p, max_tokens,
// stop, tools, response_format, ...) are accepted and ignored: grounded's
// answer does not depend on them. n must be 1. Unknown fields are a 400 as
// on every other route. Errors keep grounded's shape {"error": {"code",
// "message"}}, which OpenAI's clients read the message from.
//
// Usage counts are the model's when a language model answered; otherwise
// (the extractive answerer) they are estimates: 4 tokens per 3 words of the
// messages' text (prompt) and of the reply's content (completion).

// ChatRequest is the body of POST /v1/chat/completions: every field of
// OpenAI's chat request, plus Collection and Where.
type ChatRequest struct {
	Model    string        `json:"model"`
	Messages []ChatMessage `json:"messages"`
	Stream   *bool         `json:"stream"`
	// StreamOptions.IncludeUsage adds a usage chunk (with no choices)
	// before [DONE].
	StreamOptions *struct {
		IncludeUsage       *bool           `json:"include_usage"`
		IncludeObfuscation json.RawMessage `json:"include_obfuscation"`
	} `json:"stream_options"`
	// N must be 1 (or absent): grounded gives one answer.
	N *float64 `json:"n"`
	// Collection to answer from; it must agree with a "grounded/NAME" model.
	Collection string `json:"collection"`
	// Where restricts the passages, as in /v1/ask.
	Where grounded.Filter `json:"where"`

	// Accepted and ignored.
	Audio                json.RawMessage `json:"audio"`
	FrequencyPenalty     json.RawMessage `json:"frequency_penalty"`
	FunctionCall         json.RawMessage `json:"function_call"`
	Functions            json.RawMessage `json:"functions"`
	LogitBias            json.RawMessage `json:"logit_bias"`
	Logprobs             json.RawMessage `json:"logprobs"`
	MaxCompletionTokens  json.RawMessage `json:"max_completion_tokens"`
	MaxTokens            json.RawMessage `json:"max_tokens"`
	Metadata             json.RawMessage `json:"metadata"`
	Modalities           json.RawMessage `json:"modalities"`
	ParallelToolCalls    json.RawMessage `json:"parallel_tool_calls"`
	Prediction           json.RawMessage `json:"prediction"`
	PresencePenalty      json.RawMessage `json:"presence_penalty"`
	PromptCacheKey       json.RawMessage `json:"prompt_cache_key"`
	PromptCacheRetention json.RawMessage `json:"prompt_cache_retention"`
	ReasoningEffort      json.RawMessage `json:"reasoning_effort"`
	ResponseFormat       json.RawMessage `json:"response_format"`
	SafetyIdentifier     json.RawMessage `json:"safety_identifier"`
	Seed                 json.RawMessage `json:"seed"`
	ServiceTier          json.RawMessage `json:"service_tier"`
	Stop                 json.RawMessage `json:"stop"`
	Store                json.RawMessage `json:"store"`
	Temperature          json.RawMessage `json:"temperature"`
	ToolChoice           json.RawMessage `json:"tool_choice"`
	Tools                json.RawMessage `json:"tools"`
	TopLogprobs          json.RawMessage `json:"top_logprobs"`
	TopP                 json.RawMessage `json:"top_p"`
	User                 json.RawMessage `json:"user"`
	Verbosity            json.RawMessage `json:"verbosity"`
	WebSearchOptions     json.RawMessage `json:"web_search_options"`
}

// ChatMessage is one message of a chat request. Content is a string, an
// array of parts ({"type": "text", "text": "..."}; an assistant's
// {"type": "refusal", "refusal": "..."}), or null.
type ChatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`

	// Accepted and ignored.
	Name         json.RawMessage `json:"name"`
	ToolCalls    json.RawMessage `json:"tool_calls"`
	ToolCallID   json.RawMessage `json:"tool_call_id"`
	FunctionCall json.RawMessage `json:"function_call"`
	Refusal      json.RawMessage `json:"refusal"`
	Audio        json.RawMessage `json:"audio"`
}

// chatPart is one part of an array content.
type chatPart struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text"`
	Refusal    *string         `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"`
	InputAudio json.RawMessage `json:"input_audio"`
	File       json.RawMessage `json:"file"`
}

// ChatCompletion is the body POST /v1/chat/completions answers with.
type ChatCompletion struct {
	ID        string       `json:"id"`
	Object    string       `json:"object"` // "chat.completion"
	Created   int64        `json:"created"`
	Model     string       `json:"model"`
	Choices   []ChatChoice `json:"choices"`
	Usage     ChatUsage    `json:"usage"`
	Grounding Grounding    `json:"grounding"`
}

// ChatChoice is the one choice of a ChatCompletion.
type ChatChoice struct {
	Index        int              `json:"index"`
	Message      ChatReplyMessage `json:"message"`
	FinishReason string           `json:"finish_reason"`
}

// ChatReplyMessage is the assistant's message.
type ChatReplyMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatUsage counts tokens, as OpenAI does.
type ChatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Grounding is what grounded adds to an OpenAI reply.
type Grounding struct {
	// Query is the retrieval query: the question, after the earlier user
	// turns it leans on when it is a follow-up.
	Query          string              `json:"query"`
	Abstained      bool                `json:"abstained"`
	Reason         string              `json:"reason,omitempty"`
	Confidence     float64             `json:"confidence"`
	Citations      []grounded.Citation `json:"citations"`
	Sentences      []grounded.Sentence `json:"sentences"`
	Unsupported    []grounded.Sentence `json:"unsupported"`
	Generator      string              `json:"generator"`
	Provider       string              `json:"provider,omitempty"`
	Model          string              `json:"model,omitempty"`
	FallbackReason string              `json:"fallback_reason,omitempty"`
}

// ChatChunk is one chat.completion.chunk of a streamed reply. Grounding is
// set on the last chunk (the one with finish_reason), Usage on the usage
// chunk (no choices) that stream_options.include_usage asks for.
type ChatChunk struct {
	ID        string            `json:"id"`
	Object    string            `json:"object"` // "chat.completion.chunk"
	Created   int64             `json:"created"`
	Model     string            `json:"model"`
	Choices   []ChatChunkChoice `json:"choices"`
	Usage     *ChatUsage        `json:"usage,omitempty"`
	Grounding *Grounding        `json:"grounding,omitempty"`
}

// ChatChunkChoice is a chunk's one choice.
type ChatChunkChoice struct {
	Index        int       `json:"index"`
	Delta        ChatDelta `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
}

// ChatDelta is the text a chunk adds.
type ChatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the body GET /v1/models answers with.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// modelPrefix is the model name of the default collection; "grounded/NAME"
// names the collection NAME.
const modelPrefix = "grounded"

func (h *handler) openAIRoutes(r *gin.Engine) {
	created := time.Now().Unix()
	r.POST("/v1/chat/completions", h.chatCompletions)
	r.GET("/v1/models", func(c *gin.Context) { h.listModels(c, created) })
	r.GET("/v1/models/*id", func(c *gin.Context) { h.getModel(c, created) })
}

// modelName is the model that answers from a collection.
func modelName(collection string) string {
	if collection == DefaultCollection {
		return modelPrefix
	}
	return modelPrefix + "/" + collection
}

// modelCollection is the collection a model name picks; ENOTFOUND for a
// model that is not grounded's.
func modelCollection(model string) (string, error) {
	if model == modelPrefix {
		return DefaultCollection, nil
	}
	if name, ok := strings.CutPrefix(model, modelPrefix+"/"); ok && name != "" {
		return name, nil
	}
	return "", grounded.Errorf(grounded.ENOTFOUND, "model %q does not exist: use %q (the default collection) or %q; GET /v1/models lists them", model, modelPrefix, modelPrefix+"/COLLECTION")
}

func (h *handler) listModels(c *gin.Context, created int64) {
	names, err := h.cfg.Collections.Names()
	if err != nil {
		writeError(c, err)
		return
	}
	out := ModelList{Object: "list", Data: []Model{}}
	for _, name := range names {
		if h.allow != nil && h.allow(c, name) != nil {
			continue // a key sees only its collections
		}
		out.Data = append(out.Data, Model{ID: modelName(name), Object: "model", Created: created, OwnedBy: modelPrefix})
	}
	c.JSON(http.StatusOK, out)
}

func (h *handler) getModel(c *gin.Context, created int64) {
	id := strings.TrimPrefix(c.Param("id"), "/")
	name, err := modelCollection(id)
	if err == nil {
		_, err = h.collection(c, name, false)
	}
	if err != nil {
		writeError(c, modelError(id, err))
		return
	}
	c.JSON(http.StatusOK, Model{ID: id, Object: "model", Created: created, OwnedBy: modelPrefix})
}

// modelError names the model in a missing collection's error.
func modelError(model string, err error) error {
	if grounded.ErrorCode(err) == grounded.ENOTFOUND && strings.HasPrefix(model, modelPrefix+"/") {
		return grounded.Errorf(grounded.ENOTFOUND, "model %q does not exist: %s", model, grounded.ErrorMessage(err))
	}
	return err
}

// chat is a checked chat request.
type chat struct {
	col       Collection
	model     string
	query     string // the retrieval query
	where     grounded.Filter
	stream    bool
	withUsage bool
	words     int // words of the messages' text, for the usage estimate
}

func (h *handler) chatCompletions(c *gin.Context) {
	var req ChatRequest
	if err := decode(c.Request.Body, &req); err != nil {
		writeError(c, err)
		return
	}
	ch, err := h.readChat(c, &req)
	if err != nil {
		writeError(c, err)
		return
	}
	if ch.stream {
		h.chatStream(c, ch)
		return
	}
	began := time.Now()
	ans, err := ch.col.Ask(c.Request.Context(), grounded.AskRequest{Question: ch.query, Where: ch.where})
	if err == nil {
		h.observeAnswer(ans, time.Since(began))
	}
	if err != nil {
		writeError(c, err)
		return
	}
	content := replyContent(ans)
	c.JSON(http.StatusOK, ChatCompletion{
		ID: completionID(), Object: "chat.completion", Created: time.Now().Unix(), Model: ch.model,
		Choices: []ChatChoice{{Message: ChatReplyMessage{Role: "assistant", Content: content}, FinishReason: "stop"}},
		Usage:   usage(ans, ch.words, content), Grounding: grounding(ch.query, ans),
	})
}

// readChat checks a request and finds its collection and retrieval query.
func (h *handler) readChat(c *gin.Context, req *ChatRequest) (*chat, error) {
	if req.Model == "" {
		return nil, grounded.Errorf(grounded.EINVALID, "model is empty: use %q or %q", modelPrefix, modelPrefix+"/COLLECTION")
	}
	if req.N != nil && *req.N != 1 {
		return nil, grounded.Errorf(grounded.EINVALID, "n is %v: grounded gives one answer, so n must be 1", *req.N)
	}
	name, err := modelCollection(req.Model)
	if err != nil {
		return nil, err
	}
	if req.Model == modelPrefix {
		name = req.Collection // "" is the default, or ?collection=
	} else if req.Collection != "" && req.Collection != name {
		return nil, grounded.Errorf(grounded.EINVALID, "model %q and collection %q disagree", req.Model, req.Collection)
	}
	users, words, err := userTurns(req.Messages)
	if err != nil {
		return nil, err
	}
	if err := h.checkText("the last user message", users[len(users)-1]); err != nil {
		return nil, err
	}
	col, err := h.collection(c, name, false)
	if err != nil {
		return nil, modelError(req.Model, err)
	}
	ch := &chat{col: col, model: req.Model, where: req.Where, words: words,
		query:  retrievalQuery(users, h.cfg.MaxQuestionBytes),
		stream: req.Stream != nil && *req.Stream}
	if o := req.StreamOptions; o != nil && o.IncludeUsage != nil && *o.IncludeUsage {
		ch.withUsage = true
	}
	return ch, nil
}

// userTurns returns the text of each user message, in order, and the number
// of words in all messages. EINVALID for a malformed message, or when there
// is no user message.
func userTurns(msgs []ChatMessage) (users []string, words int, err error) {
	if len(msgs) == 0 {
		return nil, 0, grounded.Errorf(grounded.EINVALID, "messages is empty: send at least one user message")
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool", "function":
		case "":
			return nil, 0, grounded.Errorf(grounded.EINVALID, "messages[%d].role is empty", i)
		default:
			return nil, 0, grounded.Errorf(grounded.EINVALID, "messages[%d].role %q is not one of system, developer, user, assistant, tool, function", i, m.Role)
		}
		text, err := contentText(m.Role, m.Content)
		if err != nil {
			return nil, 0, grounded.Errorf(grounded.EINVALID, "messages[%d].content: %s", i, grounded.ErrorMessage(err))
		}
		words += len(strings.Fields(text))
		if m.Role == "user" {
			users = append(users, text)
		}
	}
	if len(users) == 0 {
		return nil, 0, grounded.Errorf(grounded.EINVALID, "messages has no user message: the last one is the question")
	}
	return users, words, nil
}

// contentText reads a message's content: a string, null, or an array of
// text parts joined by newlines. A user's content must be text: an image,
// audio or file part is EINVALID.
func contentText(role string, raw json.RawMessage) (string, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", grounded.Errorf(grounded.EINVALID, "not a valid JSON string")
		}
		return s, nil
	case raw[0] != '[':
		return "", grounded.Errorf(grounded.EINVALID, "want a string or an array of text parts")
	}
	var parts []chatPart
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&parts); err != nil {
		return "", grounded.Errorf(grounded.EINVALID, "want a string or an array of parts {\"type\": \"text\", \"text\": \"...\"}: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	var texts []string
	for j, p := range parts {
		switch {
		case p.Type == "text" && p.Text != nil:
			texts = append(texts, *p.Text)
		case p.Type == "text":
			return "", grounded.Errorf(grounded.EINVALID, "part %d has no text", j)
		case p.Type == "refusal" && role == "assistant" && p.Refusal != nil:
			texts = append(texts, *p.Refusal)
		case role != "user" && p.Type != "":
			// Other parts of other roles are not read.
		default:
			return "", grounded.Errorf(grounded.EINVALID, "part %d has type %q: grounded answers text questions, so a user message holds text parts only", j, p.Type)
		}
	}
	return strings.Join(texts, "\n"), nil
}

// retrievalQuery is the question (the last user turn), with the earlier user
// turns it leans on before it when it is a follow-up: walking back, each
// earlier turn is prepended while the turn after it is a follow-up, at most
// three of them, as long as the query stays within limit bytes.
func retrievalQuery(users []string, limit int) string {
	q := strings.TrimSpace(users[len(users)-1])
	for i := len(users) - 2; i >= 0 && i >= len(users)-4; i-- {
		if !followUp(users[i+1]) {
			break
		}
		prev := strings.TrimSpace(users[i])
		if prev == "" || len(prev)+1+len(q) > limit {
			break
		}
		q = prev + " " + q
	}
	return q
}

// followUp reports whether a question leans on an earlier one: it has fewer
// than three words ("Why?", "And video?"), opens with a connective ("and",
// "or", "but", "also", "so", "what about", "how about"), or holds a pronoun
// that points back ("it", "its", "they", "them", "their", "this", "these",
// "those", "he", "she", ...). "that" is not counted: it is too often a
// relative pronoun ("a model that generates images").
func followUp(q string) bool {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		w = strings.TrimFunc(w, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'' || r >= 0x80) })
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) < 3 {
		return true
	}
	switch words[0] {
	case "and", "or", "but", "also", "so":
		return true
	case "what", "how":
		if words[1] == "about" {
			return true
		}
	}
	for _, w := range words {
		switch w {
		case "it", "its", "it's", "itself", "they", "them", "their", "theirs", "themselves", "they're",
			"this", "these", "those", "he", "him", "his", "she", "her", "hers":
			return true
		}
	}
	return false
}

// replyContent is the reply's text: the answer, or on an abstention a
// sentence that says grounded cannot answer from its documents, and why.
func replyContent(ans *grounded.Answer) string {
	if !ans.Abstained {
		return ans.Answer
	}
	why, ok := map[string]string{
		grounded.ReasonNoEvidence:     "no passage shares a content word with the question",
		grounded.ReasonWeakEvidence:   "the passages found do not cover enough of the question",
		grounded.ReasonNameMismatch:   "the passages that cover the question lack a name or number it mentions",
		grounded.ReasonNoAnswerType:   "the passages hold nothing of the kind the question asks for",
		grounded.ReasonNegation:       "the question is negated and the passages that cover it are not",
		grounded.ReasonModelAbstained: "the language model found no answer in the passages",
		grounded.ReasonUnsupported:    "too little of the language model's answer was supported by the passages",
	}[ans.Reason]
	if !ok {
		why = "no answer was found"
	}
	reason := ans.Reason
	if reason == "" {
		reason = "abstained"
	}
	return fmt.Sprintf("grounded cannot answer this from its documents: %s (%s).", why, reason)
}

// grounding is the reply's "grounding" field.
func grounding(query string, ans *grounded.Answer) Grounding {
	g := Grounding{
		Query: query, Abstained: ans.Abstained, Reason: ans.Reason, Confidence: ans.Confidence,
		Citations: ans.Citations, Sentences: ans.Sentences, Unsupported: ans.Unsupported,
		Generator: ans.Generator, Provider: ans.Provider, Model: ans.Model, FallbackReason: ans.FallbackReason,
	}
	if g.Citations == nil {
		g.Citations = []grounded.Citation{}
	}
	if g.Sentences == nil {
		g.Sentences = []grounded.Sentence{}
	}
	if g.Unsupported == nil {
		g.Unsupported = []grounded.Sentence{}
	}
	return g
}

// usage is the model's token count when a model answered, else an estimate
// of 4 tokens per 3 words.
func usage(ans *grounded.Answer, promptWords int, content string) ChatUsage {
	var u ChatUsage
	if ans.Usage != nil && ans.Usage.PromptTokens+ans.Usage.CompletionTokens > 0 {
		u.PromptTokens, u.CompletionTokens = ans.Usage.PromptTokens, ans.Usage.CompletionTokens
	} else {
		u.PromptTokens = (4*promptWords + 2) / 3
		u.CompletionTokens = (4*len(strings.Fields(content)) + 2) / 3
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func completionID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return "chatcmpl-" + hex.EncodeToString(b)
}

// sentenceText is a streamed sentence as the answer's text writes it: the
// sentence, its markers, and a flag when it is unsupported.
func sentenceText(st grounded.Sentence) string {
	var b strings.Builder
	b.WriteString(st.Text)
	if len(st.Citations) > 0 {
		b.WriteByte(' ')
		for _, n := range st.Citations {
			b.WriteString("[" + strconv.Itoa(n) + "]")
		}
	}
	if !st.Supported {
		b.WriteString(" (unsupported)")
	}
	return b.String()
}

// chatStream answers as chat.completion.chunk Server-Sent Events: a first
// chunk with the role, a content delta per checked sentence as the
// collection hands it over (an answerer that hands over none has its whole
// answer sent as one delta), a last chunk with finish_reason "stop" and the
// grounding, with include_usage a usage chunk, then [DONE]. An error before
// the first chunk is a JSON error with its status; after it, a data line
// {"error": {...}} ends the stream. The request's context is the work's: a
// client that leaves cancels it.
func (h *handler) chatStream(c *gin.Context, ch *chat) {
	id, created := completionID(), time.Now().Unix()
	started := false
	var streamed strings.Builder // the content sent so far
	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c.Writer, "data: %s\n\n", b); err != nil {
			return err
		}
		c.Writer.Flush()
		return c.Request.Context().Err()
	}
	chunk := func(delta ChatDelta, finish *string) ChatChunk {
		return ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ch.model,
			Choices: []ChatChunkChoice{{Delta: delta, FinishReason: finish}}}
	}
	send := func(text string) error {
		if !started {
			started = true
			startEventStream(c)
			empty := ""
			if err := write(chunk(ChatDelta{Role: "assistant", Content: &empty}, nil)); err != nil {
				return err
			}
		}
		if text == "" {
			return nil
		}
		streamed.WriteString(text)
		return write(chunk(ChatDelta{Content: &text}, nil))
	}
	began := time.Now()
	ans, err := ch.col.Ask(c.Request.Context(), grounded.AskRequest{Question: ch.query, Where: ch.where, Emit: func(st grounded.Sentence) error {
		text := sentenceText(st)
		if streamed.Len() > 0 {
			text = " " + text
		}
		return send(text)
	}})
	if err != nil {
		if !started {
			writeError(c, err)
			return
		}
		code := grounded.ErrorCode(err)
		if c.Request.Context().Err() != nil {
			code = grounded.EUNAVAILABLE
		}
		_ = write(errorBody{errorDetail{code, grounded.ErrorMessage(err)}})
		return
	}
	h.observeAnswer(ans, time.Since(began))
	// The rest of the content: all of it when nothing was streamed; what
	// the streamed sentences lack; or, when the answer replaces them (an
	// abstention or the extractive fallback after the model broke off), the
	// answer after a note saying so.
	content, sent := replyContent(ans), streamed.String()
	rest, ok := strings.CutPrefix(content, sent)
	if !ok {
		rest = "\n\n(The sentences above are withdrawn.) " + content
	}
	if err := send(rest); err != nil {
		return
	}
	stop := "stop"
	last := chunk(ChatDelta{}, &stop)
	g := grounding(ch.query, ans)
	last.Grounding = &g
	if err := write(last); err != nil {
		return
	}
	if ch.withUsage {
		u := usage(ans, ch.words, content)
		if err := write(ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ch.model, Choices: []ChatChunkChoice{}, Usage: &u}); err != nil {
			return
		}
	}
	_, _ = fmt.Fprint(c.Writer, "data: [DONE]\n\n")
	c.Writer.Flush()
}

// startEventStream sends the headers of a Server-Sent Events response.
func startEventStream(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
}
