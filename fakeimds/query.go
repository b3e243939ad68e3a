package fakeimds

import (
	"net/url"
	"slices"
	"strings"
)

// queryError is a query string that IMDS refuses before looking at values.
type queryError struct {
	duplicate string // the repeated parameter, or "" for a malformed query
}

// parseQuery decodes a query string strictly: '&'-separated name=value
// pairs (a bare name has an empty value), percent- and '+'-decoding, every
// name at most once. protocols.md 2.6: duplicate query parameters are
// rejected; the IMDS token documentation lists "includes a parameter more
// than once" under invalid_request. Names are case-sensitive.
func parseQuery(raw string) (map[string]string, *queryError) {
	q := map[string]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, &queryError{}
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, &queryError{}
		}
		if _, dup := q[name]; dup {
			return nil, &queryError{duplicate: name}
		}
		q[name] = value
	}
	return q, nil
}

// Identity selector parameters (protocols.md 2.1): client_id, object_id and
// msi_res_id are what IMDS documents and MSAL/azidentity send; principal_id
// and mi_res_id are other SDKs' spellings a lenient fake accepts.
const (
	selClientID    = "client_id"
	selObjectID    = "object_id"
	selPrincipalID = "principal_id"
	selMsiResID    = "msi_res_id"
	selMiResID     = "mi_res_id"
)

var selectorNames = []string{selClientID, selObjectID, selPrincipalID, selMsiResID, selMiResID}

// selector names the identity a token request asks for; Name is "" when
// the request has no selector.
type selector struct {
	Name, Value string
}

// byResourceID reports whether the selector is an ARM resource ID.
func (s selector) byResourceID() bool { return s.Name == selMsiResID || s.Name == selMiResID }

// tokenRequest is a validated token request query (protocols.md 2.1).
type tokenRequest struct {
	APIVersion string
	// Resource is the resource as sent; the response echoes it exactly
	// (protocols.md 2.2).
	Resource string
	Selector selector
}

// mintResource is the resource the token is minted for: Resource with a
// "/.default" suffix removed. MSAL strips the suffix before calling IMDS
// (protocols.md 2.1), so real clients never send it; a hand-written request
// that does is tolerated here (real IMDS behaviour unknown [L]) while the
// echo in the response stays as sent (protocols.md 2.2).
func (t tokenRequest) mintResource() string { return strings.TrimSuffix(t.Resource, "/.default") }

// parseTokenQuery validates a token request query: decodable, no repeated
// parameter, a supported api-version, a resource, at most one selector.
// Every failure is a 400 invalid_request *apiError.
func parseTokenQuery(raw string, versions []string, msgs Messages) (tokenRequest, error) {
	q, qerr := parseQuery(raw)
	if qerr != nil {
		if qerr.duplicate != "" {
			return tokenRequest{}, invalidRequest(fill(msgs.DuplicateParameter, qerr.duplicate, ""))
		}
		return tokenRequest{}, invalidRequest(msgs.MalformedQuery)
	}
	t := tokenRequest{APIVersion: q["api-version"], Resource: q["resource"]}
	switch {
	case t.APIVersion == "":
		return tokenRequest{}, invalidRequest(msgs.MissingAPIVersion)
	case t.APIVersion < minIdentityVersion || !slices.Contains(versions, t.APIVersion):
		return tokenRequest{}, invalidRequest(fill(msgs.UnsupportedAPIVersion, "", t.APIVersion))
	case t.mintResource() == "":
		return tokenRequest{}, invalidRequest(msgs.MissingResource)
	}
	var given []string
	for _, name := range selectorNames {
		if v, ok := q[name]; ok {
			given = append(given, name)
			t.Selector = selector{Name: name, Value: v}
		}
	}
	if len(given) > 1 {
		return tokenRequest{}, invalidRequest(fill(msgs.MultipleSelectors, strings.Join(given, ", "), ""))
	}
	return t, nil
}
