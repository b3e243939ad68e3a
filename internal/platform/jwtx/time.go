package jwtx

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Audience is a JWT "aud" claim: a string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings; null is no
// audience (not the empty audience "").
func (a *Audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("aud must be a string or an array of strings")
	}
	*a = list
	return nil
}

// Contains reports whether v is one of the audiences (exact match).
func (a Audience) Contains(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// String joins the audiences with commas.
func (a Audience) String() string { return strings.Join(a, ",") }

// NumericDate is a JWT numeric date (seconds since the epoch; fractions allowed).
type NumericDate struct {
	time.Time
}

// UnmarshalJSON reads a JSON number.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("numeric date must be a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return fmt.Errorf("numeric date %v out of range", f)
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// MarshalJSON writes whole seconds.
func (d NumericDate) MarshalJSON() ([]byte, error) { return json.Marshal(d.Unix()) }

// Date returns a *NumericDate for t, for building claims.
func Date(t time.Time) *NumericDate { return &NumericDate{t.UTC().Truncate(time.Second)} }
