package api

// FaultRule is one failure injected in front of a service (POST
// /api/faults): a status with a body and headers, or added latency, for
// requests matching service, method and path, with a probability and a
// count.
type FaultRule struct {
	ID string `json:"id"`
	// Service is a service the simulator tags requests with: entra, oidc,
	// imds, acr or registry ("" or "*": any); a rule for a service nothing
	// is tagged with (arm, until a fake serves it) is refused.
	Service Service `json:"service,omitempty"`
	// Path is a path.Match pattern or a prefix ending in "*" ("" = any).
	Path   string `json:"path,omitempty"`
	Method string `json:"method,omitempty"`
	// Status, when set, answers the request with it instead of the fake.
	Status  int               `json:"status,omitempty"`
	Body    string            `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Latency is a Go duration added before the request is served.
	Latency     string  `json:"latency,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	// Count limits how many requests the rule hits (0 = unlimited);
	// Remaining counts down.
	Count     int `json:"count,omitempty"`
	Remaining int `json:"remaining,omitempty"`
	Hits      int `json:"hits"`
}
