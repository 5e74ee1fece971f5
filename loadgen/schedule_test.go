package loadgen

import (
	"testing"
	"time"
)

// testSchedule is a schedule of evenly spaced hits at rate over [0, end),
// skipping after 1 s, with slots of a cap of max.
func testSchedule(t *testing.T, rate float64, end time.Duration, max int, done <-chan struct{}) *schedule {
	s := newSchedule(NewPacer(Constant, rate, 0), 0, end, time.Second, 0, newInFlight(max), done)
	t.Cleanup(s.close)
	return s
}

// TestScheduleSkipsWhenBehind calls Pace as vegeta would from a loop that
// was held up: 5 s into the run at 1000 hits a second, the hits due more
// than 1 s ago are skipped, the first one due since is sent; at the end,
// every hit due and not sent is counted, and every hit due is either sent
// or counted.
func TestScheduleSkipsWhenBehind(t *testing.T) {
	s := testSchedule(t, 1000, 10*time.Second, 100, nil)
	if _, stop := s.Pace(5*time.Second, 0); stop {
		t.Fatal("Pace stopped 5 s into a 10 s run")
	}
	st := s.stats()
	// Hits 0 to 3998 are due before 4 s, and more come due while Pace
	// runs: at least 3999 are skipped, and the hit sent is the next.
	if b := st.notSent.behind; b < 3999 || s.next != uint64(b)+1 || st.notSent.atCap != 0 {
		t.Errorf("%d hits skipped as behind, %d at the cap, next hit %d; want 3999 or more, none, the one after", b, st.notSent.atCap, s.next)
	}
	if s.lastDue < 4*time.Second || s.lastDue != s.pacer.At(s.next-1) {
		t.Errorf("the hit sent is due at %v, want hit %d, less than 1 s before Pace returned (at 5 s or later)", s.lastDue, s.next-1)
	}
	if _, stop := s.Pace(11*time.Second, 1); !stop {
		t.Fatal("Pace did not stop past the end")
	}
	st = s.stats()
	if want := scheduledConstant(s.pacer, 10*time.Second); st.sent != 1 || st.sent+st.notSent.total() != want {
		t.Errorf("%d sent, %d not sent; want 1 and the rest of the %d due", st.sent, st.notSent.total(), want)
	}
	if s.slots.count() != 1 || s.slots.peak.Load() != 1 {
		t.Errorf("%d slots taken, peak %d; want the one sent", s.slots.count(), s.slots.peak.Load())
	}
}

// TestScheduleSkipsAtCap calls Pace with every slot taken: the hits that
// come due are skipped, counted as at the cap, until the attack stops.
func TestScheduleSkipsAtCap(t *testing.T) {
	done := make(chan struct{})
	s := testSchedule(t, 1000, 10*time.Second, 1, done)
	if !s.slots.acquire() || s.slots.acquire() {
		t.Fatal("a cap of 1 did not give exactly one slot")
	}
	stopped := make(chan bool)
	go func() {
		_, stop := s.Pace(0, 0)
		stopped <- stop
	}()
	for s.stats().notSent.atCap < 20 {
		time.Sleep(time.Millisecond)
	}
	close(done)
	if !<-stopped {
		t.Fatal("Pace handed out a hit with every slot taken")
	}
	st := s.stats()
	if st.sent != 0 || uint64(st.notSent.total()) != s.next || st.notSent.atCap < 20 {
		t.Errorf("%d sent, %d not sent (%d at the cap), next hit %d; want none sent, every hit passed counted", st.sent, st.notSent.total(), st.notSent.atCap, s.next)
	}
}

// TestScheduleWaitsForSlot frees a slot while Pace waits for one: Pace
// then hands out the next hit due.
func TestScheduleWaitsForSlot(t *testing.T) {
	s := testSchedule(t, 1000, 10*time.Second, 1, nil)
	s.slots.acquire()
	sent := make(chan bool)
	go func() {
		_, stop := s.Pace(0, 0)
		sent <- !stop
	}()
	for s.stats().notSent.atCap == 0 {
		time.Sleep(time.Millisecond)
	}
	s.slots.release()
	if !<-sent {
		t.Fatal("Pace stopped")
	}
	if st := s.stats(); s.next != uint64(st.notSent.total())+1 || s.slots.count() != 1 {
		t.Errorf("next hit %d after %d not sent, %d slots taken; want the hit after them sent with the freed slot", s.next, st.notSent.total(), s.slots.count())
	}
}

// TestScheduleEndGrace calls Pace just after the end with hits due just
// before it: a generator a few milliseconds behind, within the lag allowed,
// still sends them, on time by that bound; past the end by more than the
// lag allowed, they are not sent.
func TestScheduleEndGrace(t *testing.T) {
	s := testSchedule(t, 1000, time.Second, 100, nil)
	s.grace = 10 * time.Millisecond
	s.next = 996 // due at 997 ms
	if _, stop := s.Pace(time.Second+3*time.Millisecond, 0); stop || s.lastDue != s.pacer.At(996) {
		t.Fatalf("3ms past the end, hit 996 (due %v) was not sent", s.pacer.At(996))
	}
	if _, stop := s.Pace(time.Second+20*time.Millisecond, 1); !stop {
		t.Fatal("20ms past the end, with 10ms of lag allowed, Pace did not stop")
	}
	if st := s.stats(); st.sent != 1 || st.notSent.behind != 2 {
		t.Errorf("%d sent, %d not sent; want hit 996 sent, 997 and 998 not", st.sent, st.notSent.behind)
	}
}
