package fakeacr

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// FuzzRegistryBearer presents arbitrary bearer tokens to the registry's
// data plane: only the genuine token (or one whose payload and signature
// are the genuine ones) may pass; everything else gets the 401 challenge in
// ACR's error envelope, and nothing panics.
func FuzzRegistryBearer(f *testing.F) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	key, err := jwtx.NewKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	clock := world.NewFixedClock(time.Now().UTC().Truncate(time.Second))
	store, err := world.NewStore(world.Default(), clock)
	if err != nil {
		f.Fatal(err)
	}
	a, err := New(store, jwtx.StaticKeyring{key}, testVerifier{clock})
	if err != nil {
		f.Fatal(err)
	}
	reg, _ := store.Snapshot().Registry("azsimacr")
	now := clock.Now().Unix()
	access := []Access{{Type: typeRepository, Name: "hello", Actions: []string{world.ActionPull}}}
	genuine, err := key.Sign(Claims{JTI: "j", Sub: "", NBF: now, IAT: now, EXP: now + 3600, Iss: acrIssuer, Aud: reg.LoginServer,
		Version: tokenVersion, GrantType: grantAccess, Tenant: reg.TenantID, Access: &access, Roles: []string{}}, false)
	if err != nil {
		f.Fatal(err)
	}
	gtok, _ := jwtx.Parse(genuine)
	f.Add(genuine)
	f.Add(genuine[:len(genuine)-10])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIifQ.")
	f.Add(strings.Replace(genuine, ".", "..", 1))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		r := httptest.NewRequest(http.MethodGet, "/v2/hello/manifests/v1", nil)
		r.Host = reg.LoginServer
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			p, err := jwtx.Parse(strings.TrimSpace(tok))
			if err != nil || string(p.Payload) != string(gtok.Payload) || p.Verify(&priv.PublicKey) != nil {
				t.Fatalf("a forged token passed: %q", tok)
			}
		case http.StatusUnauthorized:
			if !json.Valid(w.Body.Bytes()) || !strings.HasPrefix(w.Header().Get("Www-Authenticate"), "Bearer realm=") {
				t.Fatalf("401 not in ACR's format: %q %q", w.Header().Get("Www-Authenticate"), w.Body.String())
			}
		default:
			t.Fatalf("status %d for %q", w.Code, tok)
		}
	})
}
