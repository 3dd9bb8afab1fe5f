package clock

import (
	"time"
)

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C delivers the time once the timer fires (nil for AfterFunc timers).
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// Ticker delivers ticks of a Clock, dropping ticks for a slow reader as time.Ticker does.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// NewTimer returns a timer of c that fires after d: a time.Timer for any clock but a *Fake, whose
// timers fire when Advance or Set moves its time to or past theirs.
func NewTimer(c Clock, d time.Duration) Timer {
	if f, ok := c.(*Fake); ok {
		return f.add(d, 0, nil)
	}
	return realTimer{time.NewTimer(d)}
}

// AfterFunc calls fn in its own goroutine once d has passed on c.
func AfterFunc(c Clock, d time.Duration, fn func()) Timer {
	if f, ok := c.(*Fake); ok {
		return f.add(d, 0, fn)
	}
	return realTimer{time.AfterFunc(d, fn)}
}

// NewTicker returns a ticker of c with period d (> 0).
func NewTicker(c Clock, d time.Duration) Ticker {
	if f, ok := c.(*Fake); ok {
		return fakeTicker{f.add(d, d, nil)}
	}
	return realTicker{time.NewTicker(d)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// fakeWaiter is a timer (period 0) or ticker of a Fake clock.
type fakeWaiter struct {
	f      *Fake
	at     time.Time
	period time.Duration
	ch     chan time.Time
	fn     func()
}

func (f *Fake) add(d, period time.Duration, fn func()) *fakeWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now.IsZero() {
		f.now = time.Unix(0, 0)
	}
	w := &fakeWaiter{f: f, at: f.now.Add(d), period: period, fn: fn}
	if fn == nil {
		w.ch = make(chan time.Time, 1)
	}
	f.waiters = append(f.waiters, w)
	f.fireLocked() // a timer of zero or negative duration fires at once
	return w
}

// fireLocked fires the waiters whose time has come (f.mu held).
func (f *Fake) fireLocked() {
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		if w.fn != nil {
			go w.fn()
		} else {
			select {
			case w.ch <- f.now:
			default: // a slow reader misses ticks
			}
		}
		if w.period > 0 {
			for !w.at.After(f.now) {
				w.at = w.at.Add(w.period)
			}
			kept = append(kept, w)
		}
	}
	for i := len(kept); i < len(f.waiters); i++ {
		f.waiters[i] = nil
	}
	f.waiters = kept
}

func (w *fakeWaiter) C() <-chan time.Time { return w.ch }

type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time { return t.w.ch }
func (t fakeTicker) Stop()               { t.w.Stop() }

// Stop removes the waiter; it reports whether it had not fired yet (timers).
func (w *fakeWaiter) Stop() bool {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	for i, x := range w.f.waiters {
		if x == w {
			w.f.waiters = append(w.f.waiters[:i], w.f.waiters[i+1:]...)
			return true
		}
	}
	return false
}
