package trace

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/azsim/azsim/api"
)

// Log keeps the most recent decisions in memory, correlates them into
// flows, folds repeated identical decisions, and streams them to
// subscribers. It is a Recorder.
//
// Hints come from the fakes, made where they refuse. The log adds one thing
// across hops: a refusal without a hint takes the hint of the newest earlier
// decision of the same flow about the same registry and repository (an ACR
// token request that dropped the action the registry then refuses), which
// it names in FactExplainedBy. It reads recorded decisions only, never a
// world.
type Log struct {
	mu    sync.Mutex
	size  int
	ring  []api.Decision
	seq   uint64
	flows map[string]string // token ID → flow ID
	order []string          // token IDs, oldest first, to bound flows
	subs  map[chan api.Decision]struct{}
}

// NewLog keeps the last size decisions.
func NewLog(size int) *Log {
	return &Log{size: size, flows: map[string]string{}, subs: map[chan api.Decision]struct{}{}}
}

// Record implements Recorder.
func (l *Log) Record(d api.Decision) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	d.Seq = l.seq
	d.Flow = l.flowOf(d)
	if d.Hint == nil && d.Outcome != api.OutcomeAllow {
		l.explainFromFlow(&d)
	}
	if i := l.repeatOf(d); i >= 0 {
		d = l.fold(i, d)
	} else {
		l.ring = append(l.ring, d)
	}
	if len(l.ring) > l.size {
		l.ring = l.ring[len(l.ring)-l.size:] // append reallocates now and then; no shift per record
	}
	for ch := range l.subs {
		select {
		case ch <- d:
		default: // a slow subscriber misses decisions rather than blocking the fakes
		}
	}
}

// explainFromFlow copies the hint of the newest earlier decision of d's
// flow that denied the action d was refused for, on the same registry and
// repository: an ACR token request that dropped pull explains the registry's
// 401 for pull, not its 404 for a missing tag. It looks back searchWindow
// decisions at most.
func (l *Log) explainFromFlow(d *api.Decision) {
	if d.Status != http.StatusUnauthorized && d.Status != http.StatusForbidden {
		return
	}
	action := d.Facts[api.FactActions]
	for i, n := len(l.ring)-1, 0; i >= 0 && n < searchWindow; i, n = i-1, n+1 {
		e := l.ring[i]
		if e.Flow != d.Flow || e.Hint == nil ||
			e.Facts[api.FactRegistry] != d.Facts[api.FactRegistry] || e.Facts[api.FactRepository] != d.Facts[api.FactRepository] ||
			!dropped(e.Facts, action) {
			continue
		}
		h := *e.Hint
		d.Hint = &h
		if d.Facts == nil {
			d.Facts = api.Facts{}
		}
		d.Facts[api.FactExplainedBy] = strconv.FormatUint(e.Seq, 10)
		return
	}
}

// dropped reports whether a decision with facts asked for action and was
// not granted it.
func dropped(f api.Facts, action string) bool {
	if action == "" {
		return false
	}
	asked, granted := strings.Split(f[api.FactActions], ","), strings.Split(f[api.FactGranted], ",")
	return (slices.Contains(asked, action) || slices.Contains(asked, "*")) && !slices.Contains(granted, action)
}

// searchWindow bounds how far back a decision looks for its repeat or its
// flow's explanation: retries and the hops of one flow are recent.
const searchWindow = 256

// repeatOf finds the ring index of a decision that d repeats: the same
// request from the same client host with the same outcome, error and hint.
// Decisions that mint tokens are never folded, and allowed ones that
// present a token neither, so flows stay correlated.
func (l *Log) repeatOf(d api.Decision) int {
	if d.TokenOut != "" || d.Outcome == api.OutcomeAllow && d.TokenIn != "" {
		return -1
	}
	for i, n := len(l.ring)-1, 0; i >= 0 && n < searchWindow; i, n = i-1, n+1 {
		if same(l.ring[i], d) {
			return i
		}
	}
	return -1
}

func same(a, b api.Decision) bool {
	return a.Service == b.Service && a.Method == b.Method && a.Host == b.Host && a.Path == b.Path &&
		callerHost(a.Caller) == callerHost(b.Caller) && a.Principal == b.Principal && a.Resource == b.Resource &&
		a.Outcome == b.Outcome && a.Status == b.Status && a.Error == b.Error && a.Reason == b.Reason &&
		a.Hint.String() == b.Hint.String() && a.TokenOut == "" && (a.Outcome != api.OutcomeAllow || a.TokenIn == "")
}

// callerHost drops the port: a client retrying on new connections is the
// same client.
func callerHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// fold merges d into the decision at ring index i and moves it to the end:
// it keeps the first time, takes d's sequence number, time and flow, and
// counts the repeat.
func (l *Log) fold(i int, d api.Decision) api.Decision {
	prev := l.ring[i]
	d.Repeats = prev.Repeats + 1
	d.FirstTime = prev.FirstTime
	if d.FirstTime.IsZero() {
		d.FirstTime = prev.Time
	}
	l.ring = append(slices.Delete(l.ring, i, i+1), d)
	return d
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

// Subscribe streams new decisions until cancel is called. A folded repeat
// is streamed again, with its new sequence number and count.
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
