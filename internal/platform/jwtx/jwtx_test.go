package jwtx

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Generating RSA keys is slow; the tests share two.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var out [2]*rsa.PrivateKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

func testKey(t testing.TB, i int) *Key {
	t.Helper()
	k, err := NewKey(testKeys()[i])
	require.NoError(t, err)
	return k
}

type claims struct {
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Aud Audience     `json:"aud"`
	Exp *NumericDate `json:"exp,omitempty"`
	Msg string       `json:"msg,omitempty"`
}

func TestSignParseVerify(t *testing.T) {
	t.Parallel()
	for _, x5t := range []bool{false, true} {
		k := testKey(t, 0)
		in := claims{Iss: "https://login.microsoftonline.com/t/v2.0", Sub: "s", Aud: Audience{"api://AzureADTokenExchange"}, Msg: "?>~ üñí 😀"}
		raw, err := k.Sign(in, x5t)
		require.NoError(t, err)
		parts := strings.Split(raw, ".")
		require.Len(t, parts, 3)
		assert.NotContains(t, parts[1], "-", "payload decodes with standard base64")
		assert.NotContains(t, parts[1], "_", "payload decodes with standard base64")

		tok, err := Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, raw, tok.Raw)
		assert.Equal(t, "RS256", tok.Alg)
		assert.Equal(t, k.KID, tok.KID)
		assert.Equal(t, "JWT", tok.Header["typ"])
		if x5t {
			assert.Equal(t, k.KID, tok.Header["x5t"])
		} else {
			assert.NotContains(t, tok.Header, "x5t")
		}
		require.NoError(t, tok.Verify(&k.Private.PublicKey))
		var out claims
		require.NoError(t, tok.Claims(&out))
		assert.Equal(t, in, out)
	}
}

func TestVerifyFails(t *testing.T) {
	t.Parallel()
	k, other := testKey(t, 0), testKey(t, 1)
	raw, err := k.Sign(claims{Sub: "alice"}, false)
	require.NoError(t, err)
	parts := strings.Split(raw, ".")

	tok, err := Parse(raw)
	require.NoError(t, err)
	err = tok.Verify(&other.Private.PublicKey)
	require.ErrorContains(t, err, "signature verification failed")

	tampered := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`))
	tok, err = Parse(parts[0] + "." + tampered + "." + parts[2])
	require.NoError(t, err, "Parse does not verify")
	var c claims
	require.NoError(t, tok.Claims(&c))
	assert.Equal(t, "mallory", c.Sub)
	require.ErrorContains(t, tok.Verify(&k.Private.PublicKey), "signature verification failed")

	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[0] ^= 1
	tok, err = Parse(parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig))
	require.NoError(t, err)
	require.Error(t, tok.Verify(&k.Private.PublicKey))
}

func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	require.NoError(t, err)
	jws, err := s.Sign(payload)
	require.NoError(t, err)
	raw, err := jws.CompactSerialize()
	require.NoError(t, err)
	return raw
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	good, err := k.Sign(claims{Sub: "s"}, false)
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name, raw, want string
	}{
		{"empty", "", "want 3 dot-separated parts"},
		{"two parts", parts[0] + "." + parts[1], "want 3 dot-separated parts"},
		{"four parts", good + ".x", "want 3 dot-separated parts"},
		{"JWE-like five parts", "a.b.c.d.e", "want 3 dot-separated parts"},
		{"oversized", parts[0] + "." + strings.Repeat("A", MaxTokenSize) + "." + parts[2], "more than 16384"},
		{"alg none", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"sub":"s"}`)) + ".", ""},
		{"HS256", signWith(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), []byte(`{"sub":"s"}`)), ""},
		{"ES256 header on an RSA signature", b64([]byte(`{"alg":"ES256"}`)) + "." + parts[1] + "." + parts[2], ""},
		{"header not base64", "!!." + parts[1] + "." + parts[2], ""},
		{"header not JSON", b64([]byte("nope")) + "." + parts[1] + "." + parts[2], ""},
		{"payload not JSON", signWith(t, jose.RS256, testKeys()[0], []byte("not json")), "payload is not JSON"},
		{"payload not base64", parts[0] + ".***." + parts[2], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := Parse(tt.raw)
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseAcceptsPS256(t *testing.T) {
	t.Parallel()
	raw := signWith(t, jose.PS256, testKeys()[1], []byte(`{"sub":"s"}`))
	tok, err := Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "PS256", tok.Alg)
	require.NoError(t, tok.Verify(&testKeys()[1].PublicKey))
}

func TestClaimsErrors(t *testing.T) {
	t.Parallel()
	raw, err := testKey(t, 0).Sign(map[string]any{"aud": 5}, false)
	require.NoError(t, err)
	tok, err := Parse(raw)
	require.NoError(t, err)
	var c claims
	err = tok.Claims(&c)
	require.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "aud must be a string or an array of strings")
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	_, err := testKey(t, 0).Sign(map[string]any{"f": func() {}}, false)
	require.ErrorContains(t, err, "encoding claims")
}

func TestKeyIDs(t *testing.T) {
	t.Parallel()
	priv := testKeys()[0]
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)

	k, err := NewKey(priv)
	require.NoError(t, err)
	s256 := sha256.Sum256(der)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(s256[:]), k.KID)
	k2, err := NewKey(priv)
	require.NoError(t, err)
	assert.Equal(t, k.KID, k2.KID, "stable")
	assert.NotEqual(t, k.KID, testKey(t, 1).KID)

	tk, err := NewThumbprintKey(priv)
	require.NoError(t, err)
	s1 := sha1.Sum(der)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(s1[:]), tk.KID)
	assert.Len(t, tk.KID, 27)

	jwk := k.JWK()
	assert.Equal(t, k.KID, jwk.KeyID)
	assert.Equal(t, "RS256", jwk.Algorithm)
	assert.Equal(t, "sig", jwk.Use)
	assert.True(t, jwk.IsPublic())
	b, err := json.Marshal(jwk)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"e":"AQAB"`)
	assert.NotContains(t, string(b), `"d":`)
}

func TestSignConcurrently(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			raw, err := k.Sign(claims{Sub: strings.Repeat("x", i)}, i%2 == 0)
			assert.NoError(t, err)
			tok, err := Parse(raw)
			if assert.NoError(t, err) {
				assert.NoError(t, tok.Verify(&k.Private.PublicKey))
			}
		})
	}
	wg.Wait()
}

// randomString draws runes from an alphabet rich in the characters that
// produce '-' and '_' in base64url ('?', '>', '~', DEL, non-ASCII, emoji).
func randomString(r *mrand.Rand) string {
	alphabet := []rune("?>~\x7f\"\\/<&abcXYZ019 _-.:=+éüñ€中文\u2028\u00ff\uffff😀🚀𝄞\x00\n\t")
	n := r.IntN(40)
	var b strings.Builder
	for range n {
		if r.IntN(8) == 0 {
			// Any valid rune, including the astral planes.
			c := rune(r.IntN(utf8.MaxRune + 1))
			if utf8.ValidRune(c) {
				b.WriteRune(c)
				continue
			}
		}
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestStdBase64SafeProperty(t *testing.T) {
	t.Parallel()
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := range 5000 {
		v := map[string]any{randomString(r): randomString(r), "list": []any{randomString(r), float64(i)}}
		in, err := json.Marshal(v)
		require.NoError(t, err)
		// Shift the text by 0-2 bytes so every character meets every
		// position within a base64 group.
		pad := strings.Repeat(" ", i%3)
		out := StdBase64Safe(append([]byte(pad), in...))
		enc := base64.RawURLEncoding.EncodeToString(out)
		require.NotContains(t, enc, "-", "%s", out)
		require.NotContains(t, enc, "_", "%s", out)
		var back map[string]any
		require.NoError(t, json.Unmarshal(out, &back), "%s", out)
		require.Equal(t, v, back)
		_, err = base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(out))
		require.NoError(t, err)
	}
}

func TestStdBase64Safe(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"a":"b"}`, `{"a":"b"}`},
		{`"?"`, `"\u003f"`},
		{`">~"`, `"\u003e\u007e"`},
		{"\"\x7f\"", `"\u007f"`},
		{`"é"`, `"\u00e9"`},
		{`"😀"`, `"\ud83d\ude00"`},
		{"\"\xff\"", `"\ufffd"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(StdBase64Safe([]byte(tt.in))), tt.in)
	}
	plain := []byte(`{"a":"b"}`)
	assert.Same(t, &plain[0], &StdBase64Safe(plain)[0], "unchanged input is returned as is")
}

func FuzzParse(f *testing.F) {
	k := testKey(f, 0)
	raw, err := k.Sign(claims{Sub: "s", Aud: Audience{"a", "b"}}, true)
	require.NoError(f, err)
	f.Add(raw)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Replace(raw, ".", "..", 1))
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformed), "%v", err)
			return
		}
		require.Contains(t, []string{"RS256", "PS256"}, tok.Alg)
		var c claims
		_ = tok.Claims(&c)
		var m map[string]any
		_ = tok.Claims(&m)
		_ = tok.Verify(&k.Private.PublicKey)
	})
}
