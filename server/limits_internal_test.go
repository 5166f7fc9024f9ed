package server

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
)

// TestRateLimiterTableIsBounded: idle buckets go once they would be full
// again, and a full table of busy ones drops the one seen longest ago.
func TestRateLimiterTableIsBounded(t *testing.T) {
	rl := newRateLimiter(1, 2, 3) // refills in 2 s
	t0 := time.Unix(1_000_000, 0)
	for i, id := range []string{"a", "b", "c"} {
		if wait := rl.take(id, t0.Add(time.Duration(i)*time.Millisecond)); wait != 0 {
			t.Fatalf("%s: first request waits %v", id, wait)
		}
	}
	rl.take("a", t0.Add(5*time.Millisecond)) // a's second token: now b is the oldest
	if wait := rl.take("a", t0.Add(6*time.Millisecond)); wait <= 0 {
		t.Fatalf("a's third request in a burst of 2 was let through")
	}
	rl.take("d", t0.Add(10*time.Millisecond)) // the table is full: b goes
	if n := rl.len(); n != 3 {
		t.Fatalf("%d buckets after a fourth client, want 3 (the bound)", n)
	}
	if _, ok := rl.buckets["b"]; ok {
		t.Errorf("b, seen longest ago, was kept")
	}
	if wait := rl.take("a", t0.Add(20*time.Millisecond)); wait <= 0 {
		t.Errorf("a's bucket was reset: a busy client lost its limit")
	}
	// Past the refill time every bucket is as good as new: a sweep drops them.
	rl.take("e", t0.Add(time.Minute+time.Second))
	if n := rl.len(); n != 1 {
		t.Errorf("%d buckets after all went idle, want 1 (the new one)", n)
	}
}

func TestRateLimiterWait(t *testing.T) {
	rl := newRateLimiter(0.5, 1, 10) // a token every 2 s
	t0 := time.Unix(1_000_000, 0)
	rl.take("a", t0)
	wait := rl.take("a", t0.Add(500*time.Millisecond))
	if wait != 1500*time.Millisecond {
		t.Errorf("wait %v, want 1.5s", wait)
	}
	if got := retrySeconds(wait); got != 2 {
		t.Errorf("Retry-After %d, want 2 (rounded up)", got)
	}
	// A refused request takes no token: the wait does not grow.
	if again := rl.take("a", t0.Add(500*time.Millisecond)); again != wait {
		t.Errorf("wait after a refused request %v, want %v", again, wait)
	}
	if wait := rl.take("a", t0.Add(2*time.Second)); wait != 0 {
		t.Errorf("after 2 s: wait %v, want a token", wait)
	}
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{{time.Nanosecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}} {
		if got := retrySeconds(tt.wait); got != tt.want {
			t.Errorf("retrySeconds(%v) = %d, want %d", tt.wait, got, tt.want)
		}
	}
	if rl := newRateLimiter(20, 0, 1); rl.burst != 40 {
		t.Errorf("default burst for 20/s = %d, want 40", rl.burst)
	}
}

func TestGate(t *testing.T) {
	g := newGate(1, 1)
	ctx := context.Background()
	if err := g.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error)
	go func() { waited <- g.acquire(ctx) }()
	for len(g.queue) == 0 { // until the waiter holds the queue's one place
		runtime.Gosched()
	}
	if err := g.acquire(ctx); grounded.ErrorCode(err) != grounded.EBUSY {
		t.Fatalf("acquire with the slot held and the queue full = %v, want busy", err)
	}
	g.release()
	if err := <-waited; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.acquire(cancelled); err != context.Canceled {
		t.Errorf("acquire with a cancelled context while the slot is held = %v, want context.Canceled", err)
	}
	g.release()
	if err := g.acquire(cancelled); err != nil {
		t.Errorf("acquire of a free slot = %v; it should not wait, so not see the context", err)
	}
}
