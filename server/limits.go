package server

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
	"golang.org/x/time/rate"
)

// Limits on /v1/:
//
//   - Rate: a token bucket per API key (by name), or per client address when
//     there are no keys (IPv6 by /64, as one host commonly holds the whole
//     prefix). Config.RateLimit tokens a second refill it up to
//     Config.RateBurst; each request takes one. An empty bucket answers 429
//     "rate_limited" with Retry-After: the whole seconds until a token is
//     due, at least 1. The client address is the connection's: behind a
//     reverse proxy every client shares the proxy's bucket.
//   - Generations (POST /v1/ask, /v1/chat/completions, /v1/summarize,
//     /v1/extract) and checks (POST /v1/check): at most
//     Config.MaxConcurrent run at once, a stream until its last event.
//     Config.MaxQueue more wait, each until its request's deadline; past the
//     queue a request is refused at once with 503 "busy" and Retry-After: 1.

// access returns the middleware that guards /v1/, in order: the API keys
// (with Config.Keys), the rate limit (with Config.RateLimit) and the cap on
// concurrent generations (with Config.MaxConcurrent). It sets h.allow when
// there are keys.
func (h *handler) access() []gin.HandlerFunc {
	var mw []gin.HandlerFunc
	if h.cfg.RateLimit > 0 {
		h.rates = newRateLimiter(rate.Limit(h.cfg.RateLimit), h.cfg.RateBurst, maxBuckets)
	}
	if h.cfg.Keys != nil {
		h.allow = allowKey
		mw = append(mw, h.authenticate)
	}
	if h.rates != nil {
		mw = append(mw, h.rateLimit)
	}
	if h.cfg.MaxConcurrent > 0 {
		h.slots = newGate(h.cfg.MaxConcurrent, h.cfg.MaxQueue)
		mw = append(mw, h.generationSlot)
	}
	return mw
}

// maxBuckets bounds the rate limiter's table.
const maxBuckets = 10000

// rateLimit takes a token from the bucket of the request's key, or of its
// client address when there are no keys.
func (h *handler) rateLimit(c *gin.Context) {
	if !guarded(c) {
		return
	}
	id := clientID(c.Request)
	if name := c.GetString("key"); name != "" {
		id = "key:" + name
	}
	h.rates.admit(c, id)
}

// clientID names the client's address for the rate limit: its IP, or its
// /64 for IPv6.
func clientID(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "addr:" + host
	}
	if ip.To4() == nil {
		return "ip:" + ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "ip:" + ip.String()
}

// rateLimiter holds a token bucket per client. The table is bounded: a
// bucket idle long enough to have refilled is the same as a new one and is
// dropped by the sweep that runs once a minute or when the table is full;
// if it is still full, the bucket seen longest ago goes (its client starts
// afresh with a full bucket).
type rateLimiter struct {
	limit rate.Limit
	burst int
	max   int
	// refill is how long an empty bucket takes to fill.
	refill time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newRateLimiter returns a limiter of limit tokens a second up to burst
// (burst < 1: twice the limit, at least 1) for up to size clients.
func newRateLimiter(limit rate.Limit, burst, size int) *rateLimiter {
	if burst < 1 {
		burst = max1(int(math.Ceil(2 * float64(limit))))
	}
	refill := 24 * time.Hour
	if secs := float64(burst) / float64(limit); secs < refill.Seconds() {
		refill = time.Duration(secs * float64(time.Second))
	}
	return &rateLimiter{limit: limit, burst: burst, max: max1(size), refill: refill, buckets: map[string]*bucket{}}
}

func max1(n int) int { return max(n, 1) }

// admit takes a token for id, or answers 429 with Retry-After and aborts.
func (rl *rateLimiter) admit(c *gin.Context, id string) bool {
	wait := rl.take(id, time.Now())
	if wait <= 0 {
		return true
	}
	c.Header("Retry-After", strconv.Itoa(retrySeconds(wait)))
	writeError(c, grounded.Errorf(grounded.ERATELIMITED, "too many requests: the limit is %s a second (bursts of %d); retry after %d s", formatRate(rl.limit), rl.burst, retrySeconds(wait)))
	return false
}

// retrySeconds is wait in whole seconds, rounded up, at least 1.
func retrySeconds(wait time.Duration) int {
	return max1(int(math.Ceil(wait.Seconds())))
}

func formatRate(l rate.Limit) string {
	return strconv.FormatFloat(float64(l), 'f', -1, 64)
}

// take takes a token from id's bucket at now and returns 0, or, when the
// bucket is empty, takes nothing and returns how long until a token is due.
func (rl *rateLimiter) take(id string, now time.Time) time.Duration {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b := rl.buckets[id]
	if b == nil {
		if len(rl.buckets) >= rl.max || now.Sub(rl.lastSweep) >= time.Minute {
			rl.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(rl.limit, rl.burst)}
		rl.buckets[id] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return rl.refill
	}
	wait := r.DelayFrom(now)
	if wait > 0 {
		r.CancelAt(now)
	}
	return wait
}

// sweep drops the buckets idle long enough to be full, then, while the table
// is still full, the bucket seen longest ago. rl.mu is held.
func (rl *rateLimiter) sweep(now time.Time) {
	rl.lastSweep = now
	for id, b := range rl.buckets {
		if now.Sub(b.seen) >= rl.refill {
			delete(rl.buckets, id)
		}
	}
	if len(rl.buckets) < rl.max {
		return
	}
	oldest := ""
	var at time.Time
	for id, b := range rl.buckets {
		if oldest == "" || b.seen.Before(at) {
			oldest, at = id, b.seen
		}
	}
	delete(rl.buckets, oldest)
}

// len is the number of buckets held.
func (rl *rateLimiter) len() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return len(rl.buckets)
}

// isGeneration says whether the request makes an answer: the routes that
// the cap on concurrent generations covers.
func isGeneration(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case "/v1/ask", "/v1/chat/completions", "/v1/summarize", "/v1/extract", "/v1/check":
		return true
	}
	return false
}

// generationSlot holds one of the generation slots while the request runs,
// after waiting in the queue for one if need be.
func (h *handler) generationSlot(c *gin.Context) {
	if !isGeneration(c.Request) {
		return
	}
	if err := h.slots.acquire(c.Request.Context()); err != nil {
		if grounded.ErrorCode(err) == grounded.EBUSY {
			c.Header("Retry-After", "1")
		}
		writeError(c, err)
		return
	}
	defer h.slots.release()
	c.Next()
}

// gate is a counting semaphore with a bounded queue.
type gate struct {
	slots chan struct{} // a value per running request
	queue chan struct{} // a value per waiting request
}

func newGate(slots, queue int) *gate {
	return &gate{slots: make(chan struct{}, slots), queue: make(chan struct{}, max(queue, 0))}
}

// errBusy is returned when no slot is free and the queue is full.
var errBusy = grounded.Errorf(grounded.EBUSY, "the server is busy: every answer slot is taken and the queue is full; retry shortly")

// acquire takes a slot, waiting in the queue until ctx is done if none is
// free. It returns EBUSY when the queue is full or ctx's deadline passes
// while waiting, and ctx's error when ctx is cancelled. A nil error must be
// paired with release.
func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.queue <- struct{}{}:
	default:
		return errBusy
	}
	defer func() { <-g.queue }()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return grounded.Errorf(grounded.EBUSY, "the server is busy: no answer slot came free within the request's time limit; retry shortly")
		}
		return ctx.Err()
	}
}

// release frees a slot taken by acquire.
func (g *gate) release() { <-g.slots }
