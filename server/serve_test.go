package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundedhq/grounded"
	"github.com/groundedhq/grounded/server"
)

// watchdog bounds how long a test waits on a channel before it fails; it is
// never used to order events.
const watchdog = 10 * time.Second

// startServe runs server.Serve on a free port until the returned cancel is
// called; done receives Serve's result.
func startServe(t *testing.T, h http.Handler, grace time.Duration) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		errc <- server.Serve(ctx, "127.0.0.1:0", h, grace, ready)
	}()
	select {
	case addr = <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("Serve returned before it was ready: %v", err)
	case <-time.After(watchdog):
		cancel()
		t.Fatal("Serve never reported its address")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(watchdog):
			t.Error("Serve did not return after its context was cancelled")
		}
	})
	return addr, cancel, errc
}

func TestServeShutsDownWithRequestInFlight(t *testing.T) {
	entered := make(chan struct{})
	cause := make(chan error, 1)
	svc := &fakeService{AskFn: func(ctx context.Context, _ string, _ int) (*grounded.Answer, error) {
		close(entered)
		<-ctx.Done()
		cause <- ctx.Err()
		return nil, ctx.Err()
	}}
	// RequestTimeout is long, so only the shutdown can end the request.
	h := server.New(server.Config{Collections: only(svc), RequestTimeout: time.Hour})
	addr, cancel, done := startServe(t, h, 5*time.Second)

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/v1/ask", "application/json", strings.NewReader(`{"question": "slow"}`))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{status: resp.StatusCode, body: string(b), err: err}
	}()

	select {
	case <-entered:
	case <-time.After(watchdog):
		t.Fatal("the request never reached the service")
	}
	cancel()

	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(watchdog):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	select {
	case err := <-cause:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("in-flight request's context ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("Serve returned but the in-flight request's context was never cancelled")
	}
	select {
	case r := <-got:
		// The request finished rather than hung. What the client is told is
		// TestServiceCanceledIsAnError's subject.
		t.Logf("in-flight request finished: status %d, body %q, err %v", r.status, r.body, r.err)
	case <-time.After(watchdog):
		t.Fatal("the in-flight request did not finish")
	}

	// New connections are refused once Serve has returned.
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("dial %s after shutdown succeeded, want refused", addr)
	}
}

func TestServeIdleShutdown(t *testing.T) {
	svc := &fakeService{Answer: cannedAnswer()}
	addr, cancel, done := startServe(t, server.New(server.Config{Collections: only(svc)}), time.Second)

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: status %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(watchdog):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ready := make(chan string, 1)
	err = server.Serve(context.Background(), ln.Addr().String(), server.New(server.Config{Collections: only(&fakeService{})}), time.Second, ready)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Serve on a busy address = %v, want a listen error", err)
	}
	select {
	case addr := <-ready:
		t.Errorf("Serve reported ready at %s though it could not listen", addr)
	default:
	}
}

// TestServiceCanceledIsAnError: when the request's context is cancelled while
// the client is still connected (the case of a graceful shutdown, where Serve
// cancels in-flight requests), the client must not be told it succeeded.
func TestServiceCanceledIsAnError(t *testing.T) {
	svc := &fakeService{AskFn: func(context.Context, string, int) (*grounded.Answer, error) {
		return nil, context.Canceled
	}}
	ts := newTestServer(t, server.Config{}, svc)
	resp, body := do(t, ts, "POST", "/v1/ask", `{"question": "x"}`)
	if resp.StatusCode < 500 {
		t.Errorf("status = %d, body %q; want a 5xx JSON error", resp.StatusCode, body)
	}
	decodeError(t, resp, body)
}

// TestServeGraceExpires: a handler that ignores its context cannot hold
// Serve past the grace period; Serve reports the failed shutdown.
func TestServeGraceExpires(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	svc := &fakeService{AskFn: func(context.Context, string, int) (*grounded.Answer, error) {
		close(entered)
		<-release // ignores ctx
		return cannedAnswer(), nil
	}}
	addr, cancel, done := startServe(t, server.New(server.Config{Collections: only(svc), RequestTimeout: time.Hour}), 20*time.Millisecond)
	defer close(release)

	reqDone := make(chan struct{})
	go func() {
		defer close(reqDone)
		resp, err := http.Post("http://"+addr+"/v1/ask", "application/json", strings.NewReader(`{"question": "stuck"}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(watchdog):
		t.Fatal("the request never reached the service")
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "shutdown") {
			t.Errorf("Serve = %v, want a shutdown error once the grace period is over", err)
		}
	case <-time.After(watchdog):
		t.Fatal("Serve did not return after the grace period")
	}
	// Serve closed the connection, so the client is not left waiting.
	select {
	case <-reqDone:
	case <-time.After(watchdog):
		t.Error("the client of a request cut off by Serve was left waiting")
	}
}
