package fakeoidc

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/azsim/azsim/internal/platform/ids"
	"github.com/azsim/azsim/internal/platform/jwtx"
)

// DefaultAudience is the audience the workload-identity webhook projects
// (protocols.md 5.4).
const DefaultAudience = "api://AzureADTokenExchange"

// Limits of service-account token lifetimes: Kubernetes' minimum and the
// one-day cap of the AKS issuer (protocols.md 5.2).
const (
	MinExpiration     = 10 * time.Minute
	MaxExpiration     = 24 * time.Hour
	DefaultExpiration = time.Hour
)

// TokenRequest asks for a service-account token, as a TokenRequest to
// kube-apiserver would.
type TokenRequest struct {
	Cluster        string
	Namespace      string
	ServiceAccount string
	// Audiences default to DefaultAudience.
	Audiences []string
	// Expiration defaults to DefaultExpiration.
	Expiration time.Duration
	// PodName and NodeName, when set, bind the token to a pod and a node.
	PodName, NodeName string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func (r *TokenRequest) validate() error {
	var errs []error
	if !dnsLabel.MatchString(r.Namespace) || len(r.Namespace) > 63 {
		errs = append(errs, fmt.Errorf("namespace %q is not a valid Kubernetes namespace name", r.Namespace))
	}
	if !dnsSubdomain.MatchString(r.ServiceAccount) || len(r.ServiceAccount) > 253 {
		errs = append(errs, fmt.Errorf("service account %q is not a valid Kubernetes name", r.ServiceAccount))
	}
	if r.Expiration < MinExpiration || r.Expiration > MaxExpiration {
		errs = append(errs, fmt.Errorf("expiration %s must be between %s and %s", r.Expiration, MinExpiration, MaxExpiration))
	}
	for _, a := range r.Audiences {
		if a == "" {
			errs = append(errs, errors.New("audiences must not be empty strings"))
		}
	}
	return errors.Join(errs...)
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type kubernetesClaims struct {
	Namespace      string     `json:"namespace"`
	Node           *objectRef `json:"node,omitempty"`
	Pod            *objectRef `json:"pod,omitempty"`
	ServiceAccount objectRef  `json:"serviceaccount"`
}

type saClaims struct {
	Aud        []string         `json:"aud"`
	Exp        int64            `json:"exp"`
	Iat        int64            `json:"iat"`
	Iss        string           `json:"iss"`
	JTI        string           `json:"jti"`
	Kubernetes kubernetesClaims `json:"kubernetes.io"`
	Nbf        int64            `json:"nbf"`
	Sub        string           `json:"sub"`
}

// MintServiceAccountToken signs a projected service-account token with the
// cluster's active issuer key (claims as protocols.md 5.3: aud is always an
// array, sub system:serviceaccount:<ns>:<name>). It returns the token and
// its expiry.
func (i *Issuer) MintServiceAccountToken(req TokenRequest) (string, time.Time, error) {
	if len(req.Audiences) == 0 {
		req.Audiences = []string{DefaultAudience}
	}
	if req.Expiration == 0 {
		req.Expiration = DefaultExpiration
	}
	if err := req.validate(); err != nil {
		return "", time.Time{}, fmt.Errorf("service-account token: %w", err)
	}
	c, ok := i.store.Snapshot().Cluster(req.Cluster)
	if !ok {
		return "", time.Time{}, fmt.Errorf("service-account token: unknown cluster %q", req.Cluster)
	}
	keys, err := i.clusterKeys(c.Name)
	if err != nil {
		return "", time.Time{}, err
	}
	now := i.store.Clock().Now().UTC().Truncate(time.Second)
	exp := now.Add(req.Expiration)
	claims := saClaims{
		Aud: req.Audiences, Exp: exp.Unix(), Iat: now.Unix(), Nbf: now.Unix(), Iss: c.IssuerURL, JTI: ids.New(),
		Kubernetes: kubernetesClaims{Namespace: req.Namespace, ServiceAccount: objectRef{
			Name: req.ServiceAccount, UID: ids.Derive("serviceaccount", c.Name, req.Namespace, req.ServiceAccount)}},
		Sub: "system:serviceaccount:" + req.Namespace + ":" + req.ServiceAccount,
	}
	if req.PodName != "" {
		claims.Kubernetes.Pod = &objectRef{Name: req.PodName, UID: ids.Derive("pod", c.Name, req.Namespace, req.PodName)}
	}
	if req.NodeName != "" {
		claims.Kubernetes.Node = &objectRef{Name: req.NodeName, UID: ids.Derive("node", c.Name, req.NodeName)}
	}
	raw, err := signSA(keys[len(keys)-1], claims)
	return raw, exp, err
}

func signSA(k *jwtx.Key, c saClaims) (string, error) {
	return k.SignBare(c)
}
