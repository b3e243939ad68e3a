package api

import (
	"strings"
	"time"
)

// Service is a fake a decision belongs to: the closed set of services the
// simulator traces and faults can target.
type Service string

// The services. A login server's token endpoints and metadata API
// (/oauth2/..., /acr/v1/...) are ACR; its registry API (/v2/..., the
// challenge included) is the registry. They are traced apart, as they
// refuse for different reasons.
const (
	ServiceEntra    Service = "entra"
	ServiceOIDC     Service = "oidc"
	ServiceIMDS     Service = "imds"
	ServiceACR      Service = "acr"
	ServiceRegistry Service = "registry"
	// ServiceARM is Azure Resource Manager; until a fake serves it, the
	// scenario engine plays the ARM calls of controllers and records them.
	ServiceARM Service = "arm"
)

// Services lists every service, in flow order.
func Services() []Service {
	return []Service{ServiceOIDC, ServiceEntra, ServiceIMDS, ServiceACR, ServiceRegistry, ServiceARM}
}

// Valid reports whether s is one of Services().
func (s Service) Valid() bool {
	for _, v := range Services() {
		if s == v {
			return true
		}
	}
	return false
}

// Outcome is what a decision decided.
type Outcome string

// The outcomes: a status below 400 allows, 5xx is an error, the rest deny.
const (
	OutcomeAllow Outcome = "allow"
	OutcomeDeny  Outcome = "deny"
	OutcomeError Outcome = "error"
)

// OutcomeOf is the outcome of an HTTP status.
func OutcomeOf(status int) Outcome {
	switch {
	case status < 400:
		return OutcomeAllow
	case status >= 500:
		return OutcomeError
	}
	return OutcomeDeny
}

// FactKey names one structured fact of a decision.
type FactKey string

// Fact keys the fakes record (docs/DESIGN.md "Trace and diagnosis").
const (
	// Entra: the federated assertion and the client.
	FactIssuer          FactKey = "issuer"
	FactSubject         FactKey = "subject"
	FactAudience        FactKey = "audience"
	FactKID             FactKey = "kid"
	FactAssertionExpiry FactKey = "assertionExpiry"
	FactAssertionIssued FactKey = "assertionIssued"
	FactClientID        FactKey = "clientId"
	FactTenant          FactKey = "tenant"
	// IMDS: the node pool, its scale set and the identity selector.
	FactPool     FactKey = "pool"
	FactVMSS     FactKey = "vmss"
	FactSelector FactKey = "selector"
	// ACR and the registry.
	FactRegistry    FactKey = "registry"
	FactRepository  FactKey = "repository"
	FactActions     FactKey = "actions"
	FactGranted     FactKey = "granted"
	FactTokenScopes FactKey = "tokenScopes"
	// Faults.
	FactFault FactKey = "fault"
	// FactExplainedBy is the sequence number of the earlier decision of the
	// same flow whose hint explains this one.
	FactExplainedBy FactKey = "explainedBy"
)

// Facts are a decision's structured facts.
type Facts map[FactKey]string

// Considered is one candidate a fake weighed before deciding: a role
// assignment, a federated identity credential, an identity of a scale set.
// Applies says whether it matched; Why says why not, in terms of its fields.
type Considered struct {
	// Kind is roleAssignment, federatedCredential or identity.
	Kind string `json:"kind"`
	// Name identifies the candidate (a role at a scope, a credential's name,
	// an identity's name).
	Name    string `json:"name"`
	Applies bool   `json:"applies"`
	Why     string `json:"why,omitempty"`
}

// Kinds of Considered.
const (
	ConsideredRoleAssignment      = "roleAssignment"
	ConsideredFederatedCredential = "federatedCredential"
	ConsideredIdentity            = "identity"
)

// Hint explains a refusal by a known pitfall. It is derived, by the fake
// that refused, from the facts and candidates recorded on the same decision.
type Hint struct {
	// Pitfall is the ID of the pitfall (a scenario of the catalogue names
	// the same ID), such as acrpull-on-cluster-identity.
	Pitfall string `json:"pitfall"`
	// Principal is who was refused, Scope what the fix applies to.
	Principal string `json:"principal,omitempty"`
	Scope     string `json:"scope,omitempty"`
	// Text is the explanation; Fix what to change.
	Text string `json:"text"`
	Fix  string `json:"fix,omitempty"`
}

// String is the hint as one sentence ("" for nil).
func (h *Hint) String() string {
	if h == nil {
		return ""
	}
	if h.Fix == "" || strings.Contains(h.Text, h.Fix) {
		return h.Text
	}
	return h.Text + "; fix: " + h.Fix
}

// Decision is what one request decided.
type Decision struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Flow correlates the hops of one flow (service-account token → Entra →
	// ACR → registry) by the IDs of the tokens presented and minted.
	Flow      string  `json:"flow"`
	Service   Service `json:"service"`
	Method    string  `json:"method"`
	Host      string  `json:"host"`
	Path      string  `json:"path"`
	Caller    string  `json:"caller"`
	Principal string  `json:"principal,omitempty"`
	// PrincipalID is the object ID of the principal, when known.
	PrincipalID string `json:"principalId,omitempty"`
	// Resource is what was asked for: a token resource, a repository scope.
	Resource string  `json:"resource,omitempty"`
	Outcome  Outcome `json:"outcome"`
	Status   int     `json:"status"`
	// Error is the exact error identifier returned (AADSTS700212, an IMDS
	// error_description, an ACR error code).
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
	Hint   *Hint  `json:"hint,omitempty"`
	// TokenIn and TokenOut are IDs (jti/uti) of the tokens presented and
	// minted; they correlate hops into a flow. Never whole tokens.
	TokenIn  string `json:"tokenIn,omitempty"`
	TokenOut string `json:"tokenOut,omitempty"`
	// Facts carries the structured details the decision was made on.
	Facts Facts `json:"facts,omitempty"`
	// Considered lists the candidates weighed, with why each did not apply.
	Considered []Considered `json:"considered,omitempty"`
	// Repeats counts the identical decisions folded into this one after it
	// (a client retrying in a loop); FirstTime is when the first was made
	// and Time when the last was.
	Repeats   int       `json:"repeats,omitempty"`
	FirstTime time.Time `json:"firstTime,omitzero"`
}

// HintText is the decision's hint as a sentence ("" when there is none).
func (d *Decision) HintText() string { return d.Hint.String() }
