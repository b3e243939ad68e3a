package sim

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// Decisions returns the recorded decisions after sequence number since,
// oldest first (0: every decision the trace still holds).
func (s *Sim) Decisions(since uint64) []api.Decision { return s.trace.Recent(since) }

// Record adds d to the trace as if a fake had made it (the in-process
// scenario target records the ARM decisions it plays).
func (s *Sim) Record(d api.Decision) { clipRecorder{s.trace}.Record(d) }

// SubscribeDecisions streams every decision recorded from now on until
// cancel is called.
func (s *Sim) SubscribeDecisions() (decisions <-chan api.Decision, cancel func()) {
	return s.trace.Subscribe()
}

// maxTraceField bounds each text of a recorded decision, so that hostile
// requests (a megabyte client_id echoed into an error) cannot make the
// trace ring hold more than traceSize small decisions.
const maxTraceField = 2 << 10

// clipRecorder shortens a decision's texts before the trace keeps it.
type clipRecorder struct{ next trace.Recorder }

// maxConsidered bounds the candidates a decision keeps.
const maxConsidered = 32

func (c clipRecorder) Record(d api.Decision) {
	for _, f := range []*string{&d.Host, &d.Path, &d.Caller, &d.Principal, &d.PrincipalID, &d.Resource, &d.Error,
		&d.Reason, &d.TokenIn, &d.TokenOut} {
		*f = clipField(*f)
	}
	if d.Hint != nil {
		h := *d.Hint
		for _, f := range []*string{&h.Pitfall, &h.Principal, &h.Scope, &h.Text, &h.Fix} {
			*f = clipField(*f)
		}
		d.Hint = &h
	}
	if len(d.Considered) > maxConsidered {
		d.Considered = append(d.Considered[:maxConsidered:maxConsidered],
			api.Considered{Kind: "truncated", Name: strconv.Itoa(len(d.Considered)-maxConsidered) + " more not kept"})
	} else if d.Considered != nil {
		d.Considered = slices.Clone(d.Considered)
	}
	for i := range d.Considered {
		d.Considered[i].Name, d.Considered[i].Why = clipField(d.Considered[i].Name), clipField(d.Considered[i].Why)
	}
	if len(d.Facts) > 32 {
		d.Facts = api.Facts{"truncated": "more than 32 facts"}
	}
	for k, v := range d.Facts {
		if len(k) > maxTraceField || len(v) > maxTraceField {
			delete(d.Facts, k)
			d.Facts[api.FactKey(clipField(string(k)))] = clipField(v)
		}
	}
	c.next.Record(d)
}

func clipField(s string) string {
	if len(s) <= maxTraceField {
		return s
	}
	cut := maxTraceField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}
