// Package jwtx signs and parses the JWTs azsim mints and checks: Entra access
// tokens, service-account tokens and ACR tokens. It wraps go-jose and adds
// what the fakes need: stable key IDs, cached signers, and payloads that stay
// decodable with standard base64 (protocols.md section 0 item 10).
package jwtx

import (
	"crypto"
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
	bare    jose.Signer // header alg, kid only (Kubernetes tokens)
	plain   jose.Signer // header typ, kid
	withX5T jose.Signer // header typ, kid, x5t (Entra v1)
	err     error
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

func (k *Key) signers() error {
	k.once.Do(func() {
		sk := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}}
		k.plain, k.err = jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
		if k.err == nil {
			k.bare, k.err = jose.NewSigner(sk, &jose.SignerOptions{})
		}
		if k.err == nil {
			k.withX5T, k.err = jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t", k.KID))
		}
	})
	return k.err
}

// Sign marshals claims, makes the payload standard-base64 safe, and returns
// the compact RS256 JWS. With x5t the header also carries x5t = kid, as Entra
// v1 tokens do (protocols.md 1.6).
func (k *Key) Sign(claims any, x5t bool) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	if err := k.signers(); err != nil {
		return "", fmt.Errorf("creating signer: %w", err)
	}
	s := k.plain
	if x5t {
		s = k.withX5T
	}
	return sign(s, payload)
}

// SignBare is Sign with a header of only alg and kid, as kube-apiserver
// writes service-account tokens (protocols.md 5.3).
func (k *Key) SignBare(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	if err := k.signers(); err != nil {
		return "", fmt.Errorf("creating signer: %w", err)
	}
	return sign(k.bare, payload)
}

func sign(s jose.Signer, payload []byte) (string, error) {
	jws, err := s.Sign(StdBase64Safe(payload))
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return jws.CompactSerialize()
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
	Raw       string
	Alg       string
	KID       string
	Header    map[string]any
	Payload   []byte
	signature *jose.JSONWebSignature
}

// ErrMalformed marks a token that is not a well-formed compact JWS.
var ErrMalformed = errors.New("malformed JWT")

// Parse splits and decodes a compact JWS without verifying it. Only RS256
// and PS256 are accepted.
func Parse(raw string) (*Token, error) {
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(raw), MaxTokenSize)
	}
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts", ErrMalformed)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.PS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrMalformed)
	}
	h := jws.Signatures[0].Header
	t := &Token{Raw: raw, Alg: h.Algorithm, KID: h.KeyID, Payload: jws.UnsafePayloadWithoutVerification(), signature: jws, Header: map[string]any{}}
	for k, v := range h.ExtraHeaders {
		t.Header[string(k)] = v
	}
	if !json.Valid(t.Payload) {
		return nil, fmt.Errorf("%w: payload is not JSON", ErrMalformed)
	}
	return t, nil
}

// Claims decodes the payload into v.
func (t *Token) Claims(v any) error {
	if err := json.Unmarshal(t.Payload, v); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	return nil
}

// Verify checks the signature with pub.
func (t *Token) Verify(pub crypto.PublicKey) error {
	if _, err := t.signature.Verify(pub); err != nil {
		return fmt.Errorf("signature verification failed: %w", err)
	}
	return nil
}
