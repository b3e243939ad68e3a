package conformance

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Exact IMDS error bodies confirmed by captures (protocols.md 2.3, 2.4).
const (
	imdsMetadataBody = `{"error":"invalid_request","error_description":"Required metadata header not specified"}`
	imdsNotFoundBody = `{"error":"invalid_request","error_description":"Identity not found"}`
	imdsMultipleBody = `{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}`
)

// imdsCases: the managed-identity token endpoint (protocols.md 2.1-2.5).
func (p *providers) imdsCases() []Case {
	need := []Feature{FeatureIMDS}
	return []Case{
		{ID: "imds/token/metadata-header-missing", Title: "no Metadata header: 400 with the exact 88-byte body", Needs: need, Run: p.imdsNoMetadata("")},
		{ID: "imds/token/metadata-header-wrong", Title: "Metadata: false: 400 with the exact 88-byte body", Needs: need, Run: p.imdsNoMetadata("false")},
		{ID: "imds/token/probe", Title: "the DefaultAzureCredential probe (no query, no header): 400 with the exact 88-byte body", Needs: need, Run: p.imdsProbe},
		{ID: "imds/token/api-version-missing", Title: "no api-version: 400 invalid_request", Needs: need, Run: p.imdsBadVersion("")},
		{ID: "imds/token/api-version-too-old", Title: "api-version before 2018-02-01: 400 invalid_request", Needs: need, Run: p.imdsBadVersion("2017-12-01")},
		{ID: "imds/token/x-forwarded-for", Title: "X-Forwarded-For is rejected with 400", Needs: need, Run: p.imdsForwarded},
		{ID: "imds/token/success", Title: "200: every value a string, keys in alphabetical order, expires_in a numeric string", Needs: need, Run: p.imdsSuccess},
		{ID: "imds/token/resource-echo", Title: "resource is echoed exactly (trailing slash kept)", Needs: need, Run: p.imdsResourceEcho},
		{ID: "imds/token/unknown-resource", Title: "unknown resource: 400 invalid_resource AADSTS500011", Needs: need, Run: p.imdsUnknownResource},
		{ID: "imds/select/msi-res-id", Title: "msi_res_id selects the identity", Needs: []Feature{FeatureIMDSResourceID}, Run: p.imdsSelect("msi_res_id")},
		{ID: "imds/select/object-id", Title: "object_id selects the identity", Needs: []Feature{FeatureIMDSObjectID}, Run: p.imdsSelect("object_id")},
		{ID: "imds/select/not-assigned", Title: "client_id of an identity not on the VMSS: 400 Identity not found (exact body)", Needs: need, Run: p.imdsNotAssigned},
		{ID: "imds/select/multiple-identities", Title: "several user-assigned identities and no selector: 400 (exact 168-byte body)", Needs: []Feature{FeatureMultiIdentityPool}, Run: p.imdsMultiple},
	}
}

func (p *providers) kubeletIMDS() (*Identity, string) {
	k := p.t.Identities.Kubelet
	return k, p.t.imds(k.Pool).URL
}

func (p *providers) tokenQuery(resource string, selector ...string) url.Values {
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {resource}}
	for i := 0; i+1 < len(selector); i += 2 {
		q.Set(selector[i], selector[i+1])
	}
	return q
}

func checkExactBody(c *C, r *response, status int, body string) {
	c.Check(r.StatusCode == status, "status: want %d, got %d", status, r.StatusCode)
	c.Check(string(r.Body) == body, "body: want exactly %q (%d bytes), got %q (%d bytes)", body, len(body), clip(string(r.Body)), len(r.Body))
}

func (p *providers) imdsNoMetadata(value string) func(*C) {
	return func(c *C) {
		k, base := p.kubeletIMDS()
		hdr := map[string]string{}
		if value != "" {
			hdr["Metadata"] = value
		}
		r := p.get(c, base+"/metadata/identity/oauth2/token?"+p.tokenQuery(acrResource, "client_id", k.ClientID).Encode(), hdr)
		checkExactBody(c, r, 400, imdsMetadataBody)
	}
}

func (p *providers) imdsProbe(c *C) {
	_, base := p.kubeletIMDS()
	checkExactBody(c, p.imdsGet(c, base, nil, false), 400, imdsMetadataBody)
}

func checkIMDSError(c *C, r *response, status int, code, descPrefix string) {
	c.Check(r.StatusCode == status, "status: want %d, got %d (body %q)", status, r.StatusCode, clip(string(r.Body)))
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := decodeJSON(r.Body, &e); err != nil {
		c.Fatalf("%v", err)
	}
	c.Equal("error", code, e.Error)
	c.Check(strings.HasPrefix(e.Description, descPrefix), "error_description: want prefix %q, got %q", descPrefix, e.Description)
}

func (p *providers) imdsBadVersion(version string) func(*C) {
	return func(c *C) {
		k, base := p.kubeletIMDS()
		q := p.tokenQuery(acrResource, "client_id", k.ClientID)
		q.Del("api-version")
		if version != "" {
			q.Set("api-version", version)
		}
		checkIMDSError(c, p.imdsGet(c, base, q, true), 400, "invalid_request", "")
	}
}

func (p *providers) imdsForwarded(c *C) {
	k, base := p.kubeletIMDS()
	r := p.get(c, base+"/metadata/identity/oauth2/token?"+p.tokenQuery(acrResource, "client_id", k.ClientID).Encode(),
		map[string]string{"Metadata": "true", "X-Forwarded-For": "203.0.113.7"})
	c.Check(r.StatusCode == 400, "status: want 400, got %d (body %q)", r.StatusCode, clip(string(r.Body)))
}

// orderedStrings reads a flat JSON object, returning its keys in order and
// whether every value is a string.
func orderedStrings(b []byte) ([]string, map[string]string, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, nil, false, err
	}
	var keys []string
	vals, allStrings := map[string]string{}, true
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, nil, false, err
		}
		v, err := dec.Token()
		if err != nil {
			return nil, nil, false, err
		}
		s, ok := v.(string)
		allStrings = allStrings && ok
		keys, vals[k.(string)] = append(keys, k.(string)), s
	}
	return keys, vals, allStrings, nil
}

func (p *providers) imdsToken(c *C, resource string, selector ...string) map[string]string {
	_, base := p.kubeletIMDS()
	r := p.imdsGet(c, base, p.tokenQuery(resource, selector...), true)
	r.status(c, 200)
	c.Check(strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "Content-Type: want application/json, got %q", r.Header.Get("Content-Type"))
	keys, vals, allStrings, err := orderedStrings(r.Body)
	c.Must(err == nil, "body is not a flat JSON object: %v", err)
	c.Check(allStrings, "every value must be a JSON string, got %s", clip(string(r.Body)))
	c.Check(sort.StringsAreSorted(keys), "keys must be in alphabetical order, got %v", keys)
	return vals
}

func (p *providers) imdsSuccess(c *C) {
	k, _ := p.kubeletIMDS()
	v := p.imdsToken(c, acrResource, "client_id", k.ClientID)
	for _, f := range []string{"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"} {
		c.Check(v[f] != "", "%s is missing or empty", f)
	}
	n, err := strconv.Atoi(v["expires_in"])
	c.Check(err == nil && n > 0, "expires_in: want a positive numeric string, got %q", v["expires_in"])
	c.Equal("client_id", k.ClientID, v["client_id"])
	c.Equal("token_type", "Bearer", v["token_type"])
	c.Equal("resource", acrResource, v["resource"])
	cl := claims(c, "access_token", v["access_token"])
	c.Equal("access_token appid", k.ClientID, str(cl, "appid"))
	c.Equal("access_token tid", p.t.TenantID, str(cl, "tid"))
}

func (p *providers) imdsResourceEcho(c *C) {
	k, _ := p.kubeletIMDS()
	v := p.imdsToken(c, armResource+"/", "client_id", k.ClientID)
	c.Equal("resource", armResource+"/", v["resource"])
}

func (p *providers) imdsUnknownResource(c *C) {
	k, base := p.kubeletIMDS()
	r := p.imdsGet(c, base, p.tokenQuery("https://conformance.invalid", "client_id", k.ClientID), true)
	checkIMDSError(c, r, 400, "invalid_resource", "AADSTS500011")
}

func (p *providers) imdsSelect(param string) func(*C) {
	return func(c *C) {
		k, _ := p.kubeletIMDS()
		sel := k.ResourceID
		if param == "object_id" {
			sel = k.ObjectID
		}
		v := p.imdsToken(c, acrResource, param, sel)
		c.Equal("client_id", k.ClientID, v["client_id"])
	}
}

func (p *providers) imdsNotAssigned(c *C) {
	_, base := p.kubeletIMDS()
	checkExactBody(c, p.imdsGet(c, base, p.tokenQuery(acrResource, "client_id", newGUID()), true), 400, imdsNotFoundBody)
}

func (p *providers) imdsMultiple(c *C) {
	m := p.multiPool()
	checkExactBody(c, p.imdsGet(c, m.URL, p.tokenQuery(acrResource), true), 400, imdsMultipleBody)
}
