package credprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ACRScope is the Entra scope of ACR (protocols.md 1.4).
const ACRScope = "https://containerregistry.azure.net/.default"

// NullUser is the username ACR expects with a refresh token.
const NullUser = "00000000-0000-0000-0000-000000000000"

// MaxCache bounds the cache duration (the reference provider's default TTL).
const MaxCache = time.Hour

// Annotations the kubelet forwards in KEP-4412 mode (clients.md 3.6).
var (
	clientIDAnnotations = []string{"kubernetes.azure.com/acr-client-id", "azure.workload.identity/client-id"}
	tenantAnnotations   = []string{"kubernetes.azure.com/acr-tenant-id", "azure.workload.identity/tenant-id"}
)

// Provider answers credential requests.
type Provider struct {
	Config *Config
	// HTTP is used for every call (nil: http.DefaultTransport).
	HTTP *http.Client
	// Now is the clock used for cache lifetimes (nil: time.Now).
	Now func() time.Time
	// Cache, when set, keeps responses per registry and identity.
	Cache *Cache
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provider) client() *http.Client {
	if p.HTTP != nil {
		return p.HTTP
	}
	return &http.Client{Timeout: time.Minute}
}

// Get returns credentials for req.Image.
func (p *Provider) Get(ctx context.Context, req *Request) (*Response, error) {
	server := LoginServer(req.Image)
	if server == "" {
		return newResponse(0), nil
	}
	if !p.Config.UseManagedIdentityExtension {
		resp := newResponse(MaxCache)
		for _, s := range []string{"*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us"} {
			resp.Auth[s] = AuthConfig{Username: p.Config.AADClientID, Password: p.Config.AADClientSecret}
		}
		return resp, nil
	}
	cred, tenant, who, err := p.credential(req)
	if err != nil {
		return nil, err
	}
	key := server + "|" + who
	if r, ok := p.Cache.get(key, p.now()); ok {
		return r, nil
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ACRScope}})
	if err != nil {
		return nil, fmt.Errorf("getting an Entra token for ACR: %w", err)
	}
	refresh, err := p.exchange(ctx, server, tenant, tok.Token)
	if err != nil {
		return nil, err
	}
	ttl := min(lifetime(refresh), MaxCache).Truncate(time.Second)
	resp := newResponse(ttl)
	resp.Auth[server] = AuthConfig{Username: NullUser, Password: refresh}
	p.Cache.put(key, resp, p.now().Add(ttl))
	return resp, nil
}

// credential picks the federated path when the kubelet passed a
// service-account token, the managed identity otherwise (clients.md 3.2).
func (p *Provider) credential(req *Request) (azcore.TokenCredential, string, string, error) {
	opts := azcore.ClientOptions{Transport: p.client(),
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second,
			StatusCodes: []int{408, 429, 500, 502, 503, 504}}}
	if req.ServiceAccountToken != "" {
		clientID := first(req.ServiceAccountAnnotations, clientIDAnnotations)
		if clientID == "" {
			return nil, "", "", fmt.Errorf("the service account has none of the annotations %s", strings.Join(clientIDAnnotations, ", "))
		}
		tenant := first(req.ServiceAccountAnnotations, tenantAnnotations)
		if tenant == "" {
			tenant = p.Config.TenantID
		}
		tok := req.ServiceAccountToken
		cred, err := azidentity.NewClientAssertionCredential(tenant, clientID,
			func(context.Context) (string, error) { return tok, nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts})
		return cred, tenant, "sa:" + clientID + ":" + subjectOf(tok), err
	}
	var id azidentity.ManagedIDKind
	switch {
	case p.Config.UserAssignedIdentityID == "":
	case p.Config.identityIsResourceID():
		id = azidentity.ResourceID(p.Config.UserAssignedIdentityID)
	default:
		id = azidentity.ClientID(p.Config.UserAssignedIdentityID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: id, ClientOptions: opts})
	return cred, p.Config.TenantID, "mi:" + p.Config.UserAssignedIdentityID, err
}

func first(m map[string]string, keys []string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

var challengeRE = regexp.MustCompile(`^Bearer realm="([^"]+)",service="([^"]+)"`)

// exchange finds the realm through the /v2/ challenge and trades the Entra
// token for an ACR refresh token (clients.md 3.4).
func (p *Provider) exchange(ctx context.Context, server, tenant, aad string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+server+"/v2/", nil)
	req.Header.Set("User-Agent", "azsim-credential-provider")
	resp, err := p.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("reaching %s: %w", server, err)
	}
	resp.Body.Close()
	h := resp.Header.Values("Www-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || len(h) != 1 || !challengeRE.MatchString(h[0]) {
		return "", fmt.Errorf("%s/v2/ answered %d with challenge %q; want 401 and one Bearer challenge", server, resp.StatusCode, h)
	}
	m := challengeRE.FindStringSubmatch(h[0])
	realm, err := url.Parse(m[1])
	if err != nil || realm.Scheme != "https" {
		return "", fmt.Errorf("challenge realm %q is not an https URL", m[1])
	}
	form := url.Values{"grant_type": {"access_token_refresh_token"}, "service": {m[2]}, "tenant": {tenant},
		"access_token": {aad}, "refresh_token": {aad}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "https://"+realm.Host+"/oauth2/exchange", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = p.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("exchanging at %s: %w", realm.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.RefreshToken == "" {
		return "", fmt.Errorf("exchange at %s answered %d: %s", realm.Host, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return out.RefreshToken, nil
}

// lifetime is exp − iat of a JWT (read with standard base64, as ACR clients
// do; protocols.md 0 item 10): independent of whose clock is right.
// Unreadable tokens are not cached.
func lifetime(tok string) time.Duration {
	var c struct {
		Exp int64 `json:"exp"`
		Iat int64 `json:"iat"`
	}
	if err := decodePayload(tok, &c); err != nil || c.Exp <= c.Iat {
		return 0
	}
	return time.Duration(c.Exp-c.Iat) * time.Second
}

func subjectOf(tok string) string {
	var c struct {
		Sub string `json:"sub"`
	}
	_ = decodePayload(tok, &c)
	return c.Sub
}

func decodePayload(tok string, v any) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	seg := parts[1]
	if m := len(seg) % 4; m != 0 {
		seg += strings.Repeat("=", 4-m)
	}
	b, err := base64.StdEncoding.DecodeString(seg)
	if err != nil {
		if b, err = base64.URLEncoding.DecodeString(seg); err != nil {
			return err
		}
	}
	return json.Unmarshal(b, v)
}
