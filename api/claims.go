package api

import (
	"fmt"
	"time"
)

// EntraClaims is the v1 claim set of an Entra access token, as the fake
// Entra mints it and the fake ACR verifies it (docs/reference/protocols.md 1.6).
type EntraClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	AIO      string   `json:"aio,omitempty"`
	AppID    string   `json:"appid"`
	AppIDACR string   `json:"appidacr"`
	IDP      string   `json:"idp,omitempty"`
	IDTyp    string   `json:"idtyp"`
	OID      string   `json:"oid"`
	RH       string   `json:"rh,omitempty"`
	Sub      string   `json:"sub"`
	TID      string   `json:"tid"`
	UTI      string   `json:"uti"`
	Ver      string   `json:"ver"`
	XMSMirid string   `json:"xms_mirid,omitempty"`
	XMSCC    []string `json:"xms_cc,omitempty"`
}

// IssuedToken is an Entra access token minted for a principal, as the fake
// Entra hands it to the fake IMDS.
type IssuedToken struct {
	AccessToken string
	// ID is the token's unique identifier (uti), for correlation.
	ID string
	// Resource is the resource the token is for, as requested.
	Resource  string
	ClientID  string
	IssuedAt  time.Time // = NotBefore (backdated)
	NotBefore time.Time
	ExpiresOn time.Time
}

// ProtocolError is an OAuth-style failure ("error" and "error_description")
// that one fake reports and another renders in its own wire format.
type ProtocolError struct {
	Status      int
	Code        string // the OAuth "error" value, such as invalid_resource
	Description string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Description)
}
