package fakeacr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// tagAttributes is one tag of the /acr/v1/<name>/_tags answer (the
// azcontainerregistry TagList model, API version 2021-07-01).
type tagAttributes struct {
	Name                 string          `json:"name"`
	Digest               string          `json:"digest"`
	CreatedTime          string          `json:"createdTime"`
	LastUpdateTime       string          `json:"lastUpdateTime"`
	Signed               bool            `json:"signed"`
	ChangeableAttributes map[string]bool `json:"changeableAttributes"`
}

type tagList struct {
	Registry  string          `json:"registry"`
	ImageName string          `json:"imageName"`
	Tags      []tagAttributes `json:"tags"`
}

// acrAPI serves the ACR metadata API the Azure SDK uses (protocols.md 3.1
// table, 3.5): /acr/v1/_catalog and /acr/v1/<name>/_tags, from the
// backend's /v2 answers. Times are the backend's creation time.
func (a *ACR) acrAPI(w http.ResponseWriter, rc *reqCtx, b *backend, nd *need) error {
	if rc.r.Method != http.MethodGet {
		return notFound(rc.r.Method + " " + rc.r.URL.Path + " is not simulated")
	}
	if nd == catalogNeed {
		var cat struct {
			Repositories []string `json:"repositories"`
		}
		q := url.Values{}
		for _, k := range []string{"n", "last"} {
			if v := rc.r.URL.Query().Get(k); v != "" {
				q.Set(k, v)
			}
		}
		if err := getJSON(rc, b, "/v2/_catalog?"+q.Encode(), &cat); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, cat)
		return nil
	}
	var tags struct {
		Tags []string `json:"tags"`
	}
	if err := getJSON(rc, b, "/v2/"+nd.name+"/tags/list", &tags); err != nil {
		return err
	}
	ts := b.created.Format(time.RFC3339Nano)
	out := tagList{Registry: rc.reg.LoginServer, ImageName: nd.name, Tags: []tagAttributes{}}
	for _, t := range tags.Tags {
		digest, err := headDigest(rc, b, "/v2/"+nd.name+"/manifests/"+t)
		if err != nil {
			return err
		}
		out.Tags = append(out.Tags, tagAttributes{Name: t, Digest: digest, CreatedTime: ts, LastUpdateTime: ts,
			ChangeableAttributes: map[string]bool{"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func backendDo(rc *reqCtx, b *backend, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(rc.r.Context(), method, path, nil)
	if err != nil {
		return nil, err
	}
	resp, _ := inproc{b.h}.RoundTrip(req)
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, &apiError{status: http.StatusNotFound, code: "NAME_UNKNOWN",
			message: "repository name not known to registry", reason: "backend 404 for " + path}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("backend answered %d to %s %s", resp.StatusCode, method, path)
	}
	return resp, nil
}

func getJSON(rc *reqCtx, b *backend, path string, v any) error {
	resp, err := backendDo(rc, b, http.MethodGet, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decoding backend answer to %s: %w", path, err)
	}
	return nil
}

func headDigest(rc *reqCtx, b *backend, path string) (string, error) {
	resp, err := backendDo(rc, b, http.MethodHead, path)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest"), nil
}
