package ocistore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const loginServer = "reg.azurecr.io"

// inproc serves requests with a Registry in process.
type inproc struct{ h http.Handler }

func (t inproc) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.RequestURI = "", "", req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func open(t *testing.T, dir string) *Registry {
	t.Helper()
	r, err := Open(context.Background(), dir, loginServer)
	require.NoError(t, err)
	return r
}

func push(t *testing.T, r *Registry, ref string) v1.Hash {
	t.Helper()
	img, err := random.Image(64<<10, 2)
	require.NoError(t, err)
	tag, err := name.NewTag(loginServer + "/" + ref)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img, remote.WithTransport(inproc{r})))
	d, err := img.Digest()
	require.NoError(t, err)
	return d
}

func pull(r *Registry, ref string) (v1.Hash, error) {
	tag, err := name.NewTag(loginServer + "/" + ref)
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := remote.Image(tag, remote.WithTransport(inproc{r}))
	if err != nil {
		return v1.Hash{}, err
	}
	ls, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		rc.Close()
	}
	return img.Digest()
}

// TestReopenServesWhatWasPushed: a registry opened again on the same
// directory serves the images pushed before, blobs and links included.
func TestReopenServesWhatWasPushed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := push(t, open(t, dir), "team/app:v1")

	got, err := pull(open(t, dir), "team/app:v1")
	require.NoError(t, err)
	assert.Equal(t, want, got)

	blobs, err := filepath.Glob(filepath.Join(dir, loginServer, "blobs", "sha256", "*"))
	require.NoError(t, err)
	assert.Len(t, blobs, 3, "2 layers and a config (manifests are kept apart)")
	left, err := os.ReadDir(filepath.Join(dir, loginServer, "uploads"))
	require.NoError(t, err)
	assert.Empty(t, left, "no upload file is left behind")
}

// TestBlobsAreLinkedToTheirRepository: a blob pushed to one repository is
// unknown in another, in memory and on disk.
func TestBlobsAreLinkedToTheirRepository(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dir  string
	}{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, tc.dir)
			img, err := random.Image(1<<10, 1)
			require.NoError(t, err)
			ls, err := img.Layers()
			require.NoError(t, err)
			d, err := ls[0].Digest()
			require.NoError(t, err)
			tag, err := name.NewTag(loginServer + "/team/app:v1")
			require.NoError(t, err)
			require.NoError(t, remote.Write(tag, img, remote.WithTransport(inproc{r})))

			for repo, status := range map[string]int{"team/app": http.StatusOK, "team/other": http.StatusNotFound} {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/v2/"+repo+"/blobs/"+d.String(), nil))
				assert.Equal(t, status, rec.Code, repo)
			}
		})
	}
}

func TestUploadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, contentRange, digest string
		wantStatus                         int
		wantCode                           string
	}{
		{"range does not continue", http.MethodPatch, "5-9", "", http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID"},
		{"digest mismatch", http.MethodPut, "", "sha256:" + strings.Repeat("0", 64), http.StatusBadRequest, "DIGEST_INVALID"},
		{"unsupported digest", http.MethodPut, "", "sha512:" + strings.Repeat("0", 128), http.StatusBadRequest, "DIGEST_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, t.TempDir())
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/team/app/blobs/uploads/", nil))
			require.Equal(t, http.StatusAccepted, rec.Code)
			loc := rec.Header().Get("Location")
			require.NotEmpty(t, loc)
			if tc.digest != "" {
				loc += "?digest=" + tc.digest
			}
			req := httptest.NewRequest(tc.method, loc, bytes.NewReader([]byte("hello")))
			if tc.contentRange != "" {
				req.Header.Set("Content-Range", tc.contentRange)
			}
			rec = httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			assert.Equal(t, tc.wantStatus, rec.Code)
			assert.Contains(t, rec.Body.String(), `"code":"`+tc.wantCode+`"`)
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
		})
	}
}

func TestOpenRejectsLoginServersThatAreNotDirectoryNames(t *testing.T) {
	t.Parallel()
	for _, ls := range []string{"", "a/b", `a\b`, ".", ".."} {
		_, err := Open(context.Background(), t.TempDir(), ls)
		assert.ErrorContains(t, err, "cannot name a directory", ls)
	}
}
