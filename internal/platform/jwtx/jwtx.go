// Package jwtx signs and parses the JWTs azsim mints and checks: Entra access
// tokens, service-account tokens and ACR tokens. It wraps go-jose and adds
// what the fakes need: stable key IDs, cached signers, and payloads that stay
// decodable with standard base64 (protocols.md section 0 item 10).
package jwtx

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxTokenSize bounds the JWTs azsim parses.
const MaxTokenSize = 16 << 10

// Key is an RSA signing key with its key ID.
type Key struct {
	Private *rsa.PrivateKey
	KID     string

	once    sync.Once
	bare    string // encoded header + ".": alg, kid only (Kubernetes tokens)
	plain   string // alg, kid, typ
	withX5T string // alg, kid, typ, x5t (Entra v1)
}

// NewKey wraps priv; the key ID is the base64url SHA-256 of the public key's
// PKIX encoding, as kube-apiserver derives it.
func NewKey(priv *rsa.PrivateKey) (*Key, error) {
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &Key{Private: priv, KID: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// NewThumbprintKey wraps priv with a key ID that is the base64url SHA-1 of
// the public key's PKIX encoding: 20 bytes, the shape of Entra's kid and x5t.
func NewThumbprintKey(priv *rsa.PrivateKey) (*Key, error) {
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha1.Sum(der)
	return &Key{Private: priv, KID: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// headers encodes the three protected headers once per key: signing then
// costs one JSON encoding of the claims and the RSA operation. Keys are in
// lexical order, as go-jose writes them.
func (k *Key) headers() {
	k.once.Do(func() {
		kid, _ := json.Marshal(k.KID)
		enc := func(h string) string { return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." }
		k.bare = enc(`{"alg":"RS256","kid":` + string(kid) + `}`)
		k.plain = enc(`{"alg":"RS256","kid":` + string(kid) + `,"typ":"JWT"}`)
		k.withX5T = enc(`{"alg":"RS256","kid":` + string(kid) + `,"typ":"JWT","x5t":` + string(kid) + `}`)
	})
}

// Sign marshals claims, makes the payload standard-base64 safe, and returns
// the compact RS256 JWS. With x5t the header also carries x5t = kid, as Entra
// v1 tokens do (protocols.md 1.6).
func (k *Key) Sign(claims any, x5t bool) (string, error) {
	k.headers()
	h := k.plain
	if x5t {
		h = k.withX5T
	}
	return k.sign(h, claims)
}

// SignBare is Sign with a header of only alg and kid, as kube-apiserver
// writes service-account tokens (protocols.md 5.3).
func (k *Key) SignBare(claims any) (string, error) {
	k.headers()
	return k.sign(k.bare, claims)
}

func (k *Key) sign(header string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	payload = StdBase64Safe(payload)
	enc := base64.RawURLEncoding
	sigLen := k.Private.Size()
	buf := make([]byte, 0, len(header)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sigLen))
	buf = append(buf, header...)
	buf = enc.AppendEncode(buf, payload)
	sum := sha256.Sum256(buf)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Private, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// JWK returns the public JSON Web Key (use sig, alg RS256).
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: string(jose.RS256), Use: "sig"}
}

// StdBase64Safe rewrites a JSON text so that its base64url encoding has no
// '-' or '_' (sextets 62 and 63), which clients that decode JWT payloads with
// standard base64 reject. In ASCII JSON only '?', '>', '~' and DEL can produce
// those sextets, and they occur only inside strings, where a \u escape means
// the same; non-ASCII runes are escaped likewise.
func StdBase64Safe(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && c != '?' && c != '>' && c != '~' && c != 0x7f {
			if out != nil {
				out = append(out, c)
			}
			i++
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+32), b[:i]...)
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r > 0xffff {
			r1, r2 := surrogates(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	if out == nil {
		return b
	}
	return out
}

func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// Token is a parsed, not yet verified, compact JWS.
type Token struct {
	Raw string
	Alg string
	KID string
	// Header holds the protected header parameters other than alg and kid
	// (typ, x5t, jku, jwk, ...). Nothing in it is ever used to find a key.
	Header    map[string]any
	Payload   []byte
	signature []byte
	signed    string // header.payload, the signing input
}

// ErrMalformed marks a token that is not a well-formed compact JWS.
var ErrMalformed = errors.New("malformed JWT")

// Parse splits and decodes a compact JWS without verifying it. Only RS256
// and PS256 are accepted; a crit or b64 header (extensions azsim does not
// implement) makes the token malformed. Key-carrying headers (jku, x5u, jwk,
// x5c) are kept in Header and never trusted: keys come from the verifier.
func Parse(raw string) (*Token, error) {
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(raw), MaxTokenSize)
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts", ErrMalformed)
	}
	h64, rest, _ := strings.Cut(raw, ".")
	p64, s64, _ := strings.Cut(rest, ".")
	hb, err := b64(h64)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if !utf8.Valid(hb) {
		return nil, fmt.Errorf("%w: header is not UTF-8", ErrMalformed)
	}
	var hdr map[string]any
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr == nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	alg, _ := hdr["alg"].(string)
	if alg != "RS256" && alg != "PS256" {
		return nil, fmt.Errorf("%w: unexpected signature algorithm %q; expected [RS256 PS256]", ErrMalformed, clip(alg))
	}
	kid, ok := hdr["kid"].(string)
	if _, present := hdr["kid"]; present && !ok {
		return nil, fmt.Errorf("%w: kid is not a string", ErrMalformed)
	}
	for _, ext := range []string{"crit", "b64"} {
		if _, present := hdr[ext]; present {
			return nil, fmt.Errorf("%w: unsupported %s header", ErrMalformed, ext)
		}
	}
	delete(hdr, "alg")
	delete(hdr, "kid")
	payload, err := b64(p64)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	sig, err := b64(s64)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: signature is missing or not base64url", ErrMalformed)
	}
	if !utf8.Valid(payload) {
		return nil, fmt.Errorf("%w: payload is not UTF-8", ErrMalformed)
	}
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: payload is not JSON", ErrMalformed)
	}
	return &Token{Raw: raw, Alg: alg, KID: kid, Header: hdr, Payload: payload, signature: sig,
		signed: raw[:len(h64)+1+len(p64)]}, nil
}

// b64 decodes unpadded base64url (trailing '=' tolerated, as go-jose does).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Claims decodes the payload into v.
func (t *Token) Claims(v any) error {
	if err := json.Unmarshal(t.Payload, v); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	return nil
}

// Verify checks the signature with pub, an RSA public key, by the token's
// algorithm (RS256 or PS256).
func (t *Token) Verify(pub crypto.PublicKey) error {
	rk, ok := pub.(*rsa.PublicKey)
	if !ok || rk == nil {
		return errors.New("signature verification failed: not an RSA public key")
	}
	sum := sha256.Sum256([]byte(t.signed))
	var err error
	switch t.Alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(rk, crypto.SHA256, sum[:], t.signature)
	case "PS256":
		err = rsa.VerifyPSS(rk, crypto.SHA256, sum[:], t.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		err = fmt.Errorf("algorithm %q", t.Alg)
	}
	if err != nil {
		return fmt.Errorf("signature verification failed: %w", err)
	}
	return nil
}
