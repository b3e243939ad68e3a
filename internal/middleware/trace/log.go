package trace

import (
	"strconv"
	"sync"

	"github.com/azsim/azsim/api"
)

// Hinter explains a decision: it returns the hint for a known pitfall, or "".
type Hinter func(d api.Decision) *api.Hint

// Log keeps the most recent decisions in memory, correlates them into flows,
// adds hints, and streams them to subscribers. It is a Recorder.
type Log struct {
	mu     sync.Mutex
	size   int
	ring   []api.Decision
	seq    uint64
	flows  map[string]string // token ID → flow ID
	order  []string          // token IDs, oldest first, to bound flows
	subs   map[chan api.Decision]struct{}
	hinter Hinter
}

// NewLog keeps the last size decisions.
func NewLog(size int, hinter Hinter) *Log {
	return &Log{size: size, flows: map[string]string{}, subs: map[chan api.Decision]struct{}{}, hinter: hinter}
}

// Record implements Recorder.
func (l *Log) Record(d api.Decision) {
	if l.hinter != nil && d.Hint == nil && d.Outcome != api.OutcomeAllow {
		d.Hint = l.hinter(d)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	d.Seq = l.seq
	d.Flow = l.flowOf(d)
	l.ring = append(l.ring, d)
	if len(l.ring) > l.size {
		l.ring = l.ring[len(l.ring)-l.size:]
	}
	for ch := range l.subs {
		select {
		case ch <- d:
		default: // a slow subscriber misses decisions rather than blocking the fakes
		}
	}
}

// flowOf finds the flow of the token presented, or starts one; the token
// minted joins the same flow.
func (l *Log) flowOf(d api.Decision) string {
	flow := ""
	if d.TokenIn != "" {
		flow = l.flows[d.TokenIn]
	}
	if flow == "" {
		flow = "f" + strconv.FormatUint(d.Seq, 10)
		l.remember(d.TokenIn, flow)
	}
	l.remember(d.TokenOut, flow)
	return flow
}

func (l *Log) remember(id, flow string) {
	if id == "" {
		return
	}
	if _, ok := l.flows[id]; !ok {
		l.order = append(l.order, id)
	}
	l.flows[id] = flow
	if len(l.order) > 4*l.size {
		delete(l.flows, l.order[0])
		l.order = l.order[1:]
	}
}

// Recent returns the decisions after sequence number since, oldest first.
func (l *Log) Recent(since uint64) []api.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []api.Decision
	for _, d := range l.ring {
		if d.Seq > since {
			out = append(out, d)
		}
	}
	return out
}

// Subscribe streams new decisions until cancel is called.
func (l *Log) Subscribe() (<-chan api.Decision, func()) {
	ch := make(chan api.Decision, 256)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}
