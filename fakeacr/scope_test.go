package fakeacr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Scope
		wantErr string
	}{
		{in: "repository:hello:pull", want: Scope{"repository", "hello", []string{"pull"}}},
		{in: "repository:team1/app:pull,push", want: Scope{"repository", "team1/app", []string{"pull", "push"}}},
		{in: "registry:catalog:*", want: Scope{"registry", "catalog", []string{"*"}}},
		{in: "repository:a.b_c-d/e:metadata_read,unknown", want: Scope{"repository", "a.b_c-d/e", []string{"metadata_read", "unknown"}}},
		{in: "artifact-repository:repo:pull", want: Scope{"artifact-repository", "repo", []string{"pull"}}},
		{in: "repository:hello", wantErr: "want type:name:actions"},
		{in: "repository:localhost:5000/hello:pull", wantErr: "want type:name:actions"},
		{in: ":hello:pull", wantErr: "bad resource type"},
		{in: "Repository:hello:pull", wantErr: "bad resource type"},
		{in: "repository::pull", wantErr: "bad resource name"},
		{in: "repository:Hello:pull", wantErr: "bad resource name"},
		{in: "repository:a//b:pull", wantErr: "bad resource name"},
		{in: "repository:/a:pull", wantErr: "bad resource name"},
		{in: "repository:a-:pull", wantErr: "bad resource name"},
		{in: "repository:hello:", wantErr: "bad action"},
		{in: "repository:hello:pull,,push", wantErr: "bad action"},
		{in: "repository:hello:PULL", wantErr: "bad action"},
		{in: "repository:hello:pu\x00ll", wantErr: "bad action"},
		{in: "repository:" + strings.Repeat("a", 2000) + ":pull", wantErr: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			t.Parallel()
			got, err := ParseScope(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String())
		})
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := ParseScopes([]string{"repository:a:pull repository:b:push", "", "registry:catalog:*"})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, "b", got[1].Name)
	assert.Equal(t, "registry", got[2].Type)

	_, err = ParseScopes([]string{strings.Repeat("repository:a:pull ", maxScopes+1)})
	require.ErrorContains(t, err, "too many scopes")
	_, err = ParseScopes([]string{"repository:a:pull garbage"})
	require.ErrorContains(t, err, `invalid scope "garbage"`)
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"repository:hello:pull", "registry:catalog:*", "repository:a/b:pull,push", "a:b:c:d", "", ":::", "repository:é:pull"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			return
		}
		// A parsed scope round-trips and holds no separator or space.
		if sc.String() != s {
			t.Fatalf("round trip: %q → %q", s, sc.String())
		}
		if strings.ContainsAny(sc.Name, ": \t\n") || sc.Type == "" || len(sc.Actions) == 0 {
			t.Fatalf("bad scope %#v from %q", sc, s)
		}
		again, err := ParseScopes([]string{s + " " + s})
		if err != nil || len(again) != 2 {
			t.Fatalf("ParseScopes(%q twice) = %v, %v", s, again, err)
		}
	})
}
