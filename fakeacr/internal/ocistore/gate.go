package ocistore

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestBytes bounds a manifest (ACR's limit is 4 MiB, protocols.md
// 3.8).
const maxManifestBytes = 4 << 20

// tagPattern is the distribution grammar of a tag (protocols.md 3.8).
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// gate refuses manifest pushes that ACR refuses, before either store sees
// them (protocols.md 3.8): too large, a digest reference the body does not
// hash to, a tag outside the grammar, a body that is not a manifest of a
// supported media type, and references to blobs or child manifests the
// repository does not hold.
type gate struct {
	next  http.Handler
	blobs *linkedBlobs
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	n := len(segs)
	if r.Method != http.MethodPut || n < 3 || segs[n-2] != "manifests" {
		g.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestBytes+1))
	if err != nil || len(body) > maxManifestBytes {
		regError(w, http.StatusRequestEntityTooLarge, "MANIFEST_INVALID", "manifest too large or unreadable")
		return
	}
	repo, ref := strings.Join(segs[:n-2], "/"), segs[n-1]
	if refused := g.check(w, r, repo, ref, body); refused {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.next.ServeHTTP(w, r)
}

// check writes the refusal of a manifest push and reports whether it did.
func (g *gate) check(w http.ResponseWriter, r *http.Request, repo, ref string, body []byte) bool {
	if strings.Contains(ref, ":") {
		h, err := v1.NewHash(ref)
		if sum, _, _ := v1.SHA256(bytes.NewReader(body)); err != nil || h != sum {
			writeDigestInvalid(w)
			return true
		}
	} else if !tagPattern.MatchString(ref) {
		// ACR's answer to an invalid tag is not captured: distribution's
		// code and text (protocols.md 3.8) [L].
		regError(w, http.StatusBadRequest, "TAG_INVALID", "manifest tag did not match URI")
		return true
	}
	m, ok := parseManifest(r, body)
	if !ok {
		writeManifestInvalid(w)
		return true
	}
	if missing := g.missing(r, repo, m); len(missing) > 0 {
		errs := make([]errorEntry, 0, len(missing))
		for _, d := range missing {
			detail, _ := json.Marshal(d.String())
			errs = append(errs, errorEntry{Code: "MANIFEST_BLOB_UNKNOWN", Message: "blob unknown to registry", Detail: detail})
		}
		regErrors(w, http.StatusBadRequest, errs...)
		return true
	}
	return false
}

// writeManifestInvalid is ACR's answer to a body that is not a manifest of
// the media type it is sent as (protocols.md 3.8).
func writeManifestInvalid(w http.ResponseWriter) {
	regErrors(w, http.StatusBadRequest, errorEntry{Code: "MANIFEST_INVALID", Message: "manifest invalid",
		Detail: json.RawMessage(`{"Reason":{}}`)})
}

// manifest is what the gate reads of an image manifest or index.
type manifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     types.MediaType `json:"mediaType"`
	Config        *v1.Descriptor  `json:"config"`
	Layers        []v1.Descriptor `json:"layers"`
	Manifests     []v1.Descriptor `json:"manifests"`
	contentType   types.MediaType `json:"-"`
}

// supportedManifest are the manifest media types a push may declare.
var supportedManifest = map[types.MediaType]bool{
	types.OCIManifestSchema1: true, types.DockerManifestSchema2: true,
	types.OCIImageIndex: true, types.DockerManifestList: true,
}

// parseManifest reads body as a manifest of the request's Content-Type (the
// body's mediaType when the header is absent, which is then set).
func parseManifest(r *http.Request, body []byte) (*manifest, bool) {
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil || m.SchemaVersion != 2 {
		return nil, false
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	m.contentType = types.MediaType(strings.TrimSpace(ct))
	if m.contentType == "" {
		m.contentType = m.MediaType
		r.Header.Set("Content-Type", string(m.MediaType))
	}
	if !supportedManifest[m.contentType] || (m.MediaType != "" && m.MediaType != m.contentType) {
		return nil, false
	}
	if m.contentType.IsImage() && m.Config == nil {
		return nil, false
	}
	return &m, true
}

// missing lists the blobs (of an image) or child manifests (of an index)
// that repo does not hold; foreign layers are not required.
func (g *gate) missing(r *http.Request, repo string, m *manifest) []v1.Hash {
	var out []v1.Hash
	if m.contentType.IsIndex() {
		for _, d := range m.Manifests {
			if (d.MediaType.IsImage() || d.MediaType.IsIndex()) && !g.hasManifest(r, repo, d.Digest) {
				out = append(out, d.Digest)
			}
		}
		return out
	}
	for _, d := range append([]v1.Descriptor{*m.Config}, m.Layers...) {
		if d.MediaType.IsDistributable() && !g.blobs.linked(r.Context(), repo, d.Digest) {
			out = append(out, d.Digest)
		}
	}
	return out
}

func (g *gate) hasManifest(r *http.Request, repo string, h v1.Hash) bool {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodHead, "/v2/"+repo+"/manifests/"+h.String(), nil)
	if err != nil {
		return false
	}
	rec := &statusRecorder{ResponseWriter: discardWriter{h: http.Header{}}}
	g.next.ServeHTTP(rec, withRepoContext(req))
	return rec.status == http.StatusOK
}
