package clock

import (
	"testing"
	"time"
)

func TestFakeTimersFireWhenAdvanced(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Unix(1000, 0))
	tm := NewTimer(f, time.Second)
	tk := NewTicker(f, 300*time.Millisecond)
	fired := make(chan struct{})
	AfterFunc(f, 2*time.Second, func() { close(fired) })
	stopped := NewTimer(f, time.Second)
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if n := f.Waiting(); n != 3 {
		t.Fatalf("%d waiting; want the timer, the ticker and the AfterFunc", n)
	}
	select {
	case <-tm.C():
		t.Fatal("the timer fired before the clock moved")
	default:
	}
	f.Advance(time.Second)
	if got := <-tm.C(); !got.Equal(time.Unix(1001, 0)) {
		t.Fatalf("timer fired at %v, want the fake time 1001s", got)
	}
	<-tk.C() // one tick, the others of the jump dropped
	select {
	case <-tk.C():
		t.Fatal("a slow reader got more than one tick for one jump")
	default:
	}
	select {
	case <-stopped.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	f.Advance(time.Second)
	<-fired
	<-tk.C()
	if n := f.Waiting(); n != 1 {
		t.Fatalf("%d waiting once the timers fired; want the ticker", n)
	}
	tk.Stop()
	if n := f.Waiting(); n != 0 {
		t.Fatalf("%d waiting after the ticker stopped; want none", n)
	}
	f.Advance(time.Hour)
	select {
	case <-tk.C():
		t.Fatal("a stopped ticker ticked")
	default:
	}
	real := NewTimer(Real{}, time.Millisecond)
	<-real.C()
}
