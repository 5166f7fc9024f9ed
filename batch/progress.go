package batch

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// How often progress is shown: a terminal's bar is redrawn every
// barInterval; otherwise a line is printed every lineInterval and each time
// another tenth of the jobs is done.
const (
	barInterval  = 200 * time.Millisecond
	lineInterval = 5 * time.Second
	barWidth     = 24
)

// progress shows a run's progress on w: done/total, the rate of this run's
// jobs and the time left. Its ticker goroutine is started by start and
// stopped by finish.
type progress struct {
	w        io.Writer
	terminal bool
	total    int // entries in the input
	skipped  int // done before this run
	start    time.Time
	now      func() time.Time

	mu       sync.Mutex
	done     int       // finished in this run
	lastLine time.Time // plain: when the last line was printed
	tenth    int       // plain: the last tenth printed
	drawn    int       // terminal: length of the last bar, to blank what is left of it

	stop    chan struct{}
	stopped chan struct{}
}

func newProgress(w io.Writer, terminal bool, total, skipped int, now func() time.Time) *progress {
	t := now()
	p := &progress{w: w, terminal: terminal, total: total, skipped: skipped, start: t, now: now, lastLine: t}
	p.tenth = p.tenths(skipped)
	return p
}

// startTicker starts the ticker that redraws the bar or prints the periodic line.
func (p *progress) startTicker() {
	every := lineInterval
	if p.terminal {
		every = barInterval
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				if p.terminal || p.now().Sub(p.lastLine) >= lineInterval {
					p.show()
				}
				p.mu.Unlock()
			}
		}
	}()
}

// add counts one more finished job; without a terminal it prints a line when
// another tenth of the jobs is done.
func (p *progress) add() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if t := p.tenths(p.skipped + p.done); !p.terminal && t > p.tenth {
		p.tenth = t
		p.show()
	}
}

// finish stops the ticker and shows the final count (ending the bar's line).
func (p *progress) finish() {
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.show()
		fmt.Fprintln(p.w)
	}
}

func (p *progress) tenths(done int) int {
	if p.total == 0 {
		return 10
	}
	return done * 10 / p.total
}

// show draws the bar or prints a line; p.mu is held.
func (p *progress) show() {
	now := p.now()
	done := p.skipped + p.done
	pct := 100
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	eta := "?"
	switch left := p.total - done; {
	case left <= 0:
		eta = "0s"
	case rate > 0:
		eta = time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if !p.terminal {
		p.lastLine = now
		fmt.Fprintf(p.w, "batch: %d/%d jobs done (%d%%), %.1f jobs/s, ETA %s\n", done, p.total, pct, rate, eta)
		return
	}
	fill := barWidth * pct / 100
	s := fmt.Sprintf("[%s%s] %d/%d %3d%%  %.1f jobs/s  ETA %s", strings.Repeat("#", fill), strings.Repeat(".", barWidth-fill), done, p.total, pct, rate, eta)
	pad := max(p.drawn-len(s), 0)
	p.drawn = len(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
}
