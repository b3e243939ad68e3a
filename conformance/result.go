package conformance

import (
	"sort"
	"strings"
	"time"
)

// Result is a node of the result tree: a case (no children) or a group of
// cases sharing an ID prefix (status = the worst of its children).
type Result struct {
	ID       string        `json:"id"`
	Title    string        `json:"title,omitempty"`
	Status   Status        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Log      []string      `json:"log,omitempty"`
	Duration time.Duration `json:"durationNs"`
	Children []*Result     `json:"children,omitempty"`
}

// Name is the last segment of the ID.
func (r *Result) Name() string { return r.ID[strings.LastIndex(r.ID, "/")+1:] }

// Leaves returns the cases under r in ID order.
func (r *Result) Leaves() []*Result {
	if len(r.Children) == 0 {
		return []*Result{r}
	}
	var out []*Result
	for _, c := range r.Children {
		out = append(out, c.Leaves()...)
	}
	return out
}

// Find returns the node with id, or nil.
func (r *Result) Find(id string) *Result {
	if r.ID == id {
		return r
	}
	for _, c := range r.Children {
		if strings.HasPrefix(id, c.ID) {
			if f := c.Find(id); f != nil {
				return f
			}
		}
	}
	return nil
}

// buildTree arranges leaves under group nodes for every ID prefix and
// computes each group's status and duration.
func buildTree(root string, leaves []*Result) *Result {
	top := &Result{ID: root}
	groups := map[string]*Result{root: top}
	var group func(id string) *Result
	group = func(id string) *Result {
		if g, ok := groups[id]; ok {
			return g
		}
		g := &Result{ID: id}
		groups[id] = g
		parent := group(id[:strings.LastIndex(id, "/")])
		parent.Children = append(parent.Children, g)
		return g
	}
	for _, l := range leaves {
		i := strings.LastIndex(l.ID, "/")
		if i < 0 {
			continue
		}
		p := group(l.ID[:i])
		p.Children = append(p.Children, l)
	}
	aggregate(top)
	return top
}

func aggregate(r *Result) {
	if len(r.Children) == 0 {
		return
	}
	sort.SliceStable(r.Children, func(i, j int) bool { return r.Children[i].ID < r.Children[j].ID })
	r.Status, r.Duration = Unknown, 0
	for _, c := range r.Children {
		aggregate(c)
		r.Status = max(r.Status, c.Status)
		r.Duration += c.Duration
	}
}

// Report is the outcome of one suite run.
type Report struct {
	Suite    string        `json:"suite"`
	Target   string        `json:"target,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	Warnings []string      `json:"warnings,omitempty"`
	Root     *Result       `json:"results"`
}

// Status is the worst status of the run.
func (r *Report) Status() Status { return r.Root.Status }

// OK reports whether nothing is worse than Pass (Disabled and Skip are fine).
func (r *Report) OK() bool { return r.Status().OK() }

// Cases returns every case result in ID order.
func (r *Report) Cases() []*Result {
	if len(r.Root.Children) == 0 {
		return nil
	}
	return r.Root.Leaves()
}

// Counts returns how many cases ended in each status.
func (r *Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, c := range r.Cases() {
		out[c.Status]++
	}
	return out
}

// WithStatus returns the IDs of the cases that ended in s.
func (r *Report) WithStatus(s Status) []string {
	var out []string
	for _, c := range r.Cases() {
		if c.Status == s {
			out = append(out, c.ID)
		}
	}
	return out
}
