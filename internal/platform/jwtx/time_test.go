package jwtx

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Audience
		wantErr bool
	}{
		{`"api://AzureADTokenExchange"`, Audience{"api://AzureADTokenExchange"}, false},
		{`["a","b"]`, Audience{"a", "b"}, false},
		{`[]`, Audience{}, false},
		{`null`, nil, false},
		{`5`, nil, true},
		{`{"a":1}`, nil, true},
		{`[1]`, nil, true},
	}
	for _, tt := range tests {
		var c struct {
			Aud Audience `json:"aud"`
		}
		err := json.Unmarshal([]byte(`{"aud":`+tt.in+`}`), &c)
		if tt.wantErr {
			assert.ErrorContains(t, err, "aud must be a string or an array of strings", tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, c.Aud, tt.in)
	}
	a := Audience{"a", "B"}
	assert.True(t, a.Contains("a"))
	assert.False(t, a.Contains("b"), "exact match")
	assert.False(t, Audience(nil).Contains(""))
	assert.Equal(t, "a,B", a.String())
}

func TestNumericDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		unix    int64
		nsec    int
		wantErr string
	}{
		{`1700000000`, 1700000000, 0, ""},
		{`1700000000.5`, 1700000000, 500000000, ""},
		{`0`, 0, 0, ""},
		{`1e9`, 1000000000, 0, ""},
		{`-1`, 0, 0, "out of range"},
		{`1e12`, 0, 0, "out of range"},
		{`NaN`, 0, 0, "must be a number"},
		{`"1700000000"`, 0, 0, "must be a number"},
		{`true`, 0, 0, "must be a number"},
	}
	for _, tt := range tests {
		var d NumericDate
		err := d.UnmarshalJSON([]byte(tt.in))
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.unix, d.Unix(), tt.in)
		assert.Equal(t, tt.nsec, d.Nanosecond(), tt.in)
		assert.Equal(t, "UTC", d.Location().String())
	}

	d := Date(mustTime(t, "2030-01-01T00:00:00.9Z"))
	assert.Equal(t, mustTime(t, "2030-01-01T00:00:00Z"), d.Time)
	b, err := json.Marshal(struct {
		Exp *NumericDate `json:"exp"`
	}{d})
	require.NoError(t, err)
	assert.Equal(t, `{"exp":1893456000}`, string(b))

	var c struct {
		Exp *NumericDate `json:"exp"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"exp":null}`), &c))
	assert.Nil(t, c.Exp)
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}
