package world

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	daContentRead   = "Microsoft.ContainerRegistry/registries/repositories/content/read"
	daMetadataRead  = "Microsoft.ContainerRegistry/registries/repositories/metadata/read"
	daContentWrite  = "Microsoft.ContainerRegistry/registries/repositories/content/write"
	daContentDelete = "Microsoft.ContainerRegistry/registries/repositories/content/delete"
)

func repoCmp(op, v string) string { return repoAttribute + " " + op + " '" + v + "'" }

func TestConditionEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cond, action, repo string
		want                     bool
	}{
		{"nginx allows reading nginx", condNginx, daContentRead, "nginx", true},
		{"nginx ignores case", condNginx, daMetadataRead, "NgInX", true},
		{"nginx denies reading others", condNginx, daContentRead, "nginx-extra", false},
		{"nginx does not restrict writes", condNginx, daContentWrite, "other", true},
		{"team1 prefix", condTeam1, daContentRead, "team1/api", true},
		{"team1 prefix ignores case", condTeam1, daContentRead, "TEAM1/API", true},
		{"team1 prefix needs the slash", condTeam1, daContentRead, "team1", false},
		{"team1 prefix denies others", condTeam1, daMetadataRead, "team2/api", false},

		{"StringEquals is case-sensitive", repoCmp("StringEquals", "Nginx"), daContentRead, "nginx", false},
		{"StringEquals", repoCmp("StringEquals", "nginx"), daContentRead, "nginx", true},
		{"StringNotEquals", repoCmp("StringNotEquals", "nginx"), daContentRead, "Nginx", true},
		{"StringNotEquals same", repoCmp("StringNotEquals", "nginx"), daContentRead, "nginx", false},
		{"StringNotEqualsIgnoreCase", repoCmp("StringNotEqualsIgnoreCase", "nginx"), daContentRead, "NGINX", false},
		{"StringNotEqualsIgnoreCase differs", repoCmp("StringNotEqualsIgnoreCase", "nginx"), daContentRead, "redis", true},
		{"StringStartsWith is case-sensitive", repoCmp("StringStartsWith", "Team1/"), daContentRead, "team1/x", false},
		{"StringStartsWith", repoCmp("StringStartsWith", "team1/"), daContentRead, "team1/x", true},
		{"empty value", repoCmp("StringEquals", ""), daContentRead, "", true},

		{"ActionMatches ignores case", "ActionMatches{'" + strings.ToUpper(daContentRead) + "'}", daContentRead, "x", true},
		{"ActionMatches other action", "ActionMatches{'" + daContentRead + "'}", daContentDelete, "x", false},
		{"double negation", "!!ActionMatches{'" + daContentRead + "'}", daContentRead, "x", true},
		{"AND binds tighter than OR", "ActionMatches{'a'} AND ActionMatches{'b'} OR ActionMatches{'" + daContentRead + "'}", daContentRead, "x", true},
		{"parentheses", "ActionMatches{'a'} AND (ActionMatches{'b'} OR ActionMatches{'" + daContentRead + "'})", daContentRead, "x", false},
		{"keywords ignore case", "ActionMatches{'a'} or actionmatches{'" + daContentRead + "'} and !actionMatches{'c'}", daContentRead, "x", true},
		{"whitespace and newlines", "\n\t( ( ActionMatches{'" + daContentRead + "'} )\r\n AND\n" + repoCmp("StringEquals", "a b") + " )\n", daContentRead, "a b", true},
		{"attribute name ignores case", strings.ToLower(repoAttribute) + " StringEquals 'x'", daContentRead, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := parseCondition(tt.cond)
			require.NoError(t, err)
			require.NoError(t, ValidateCondition(tt.cond))
			assert.Equal(t, tt.want, e.eval(tt.action, tt.repo))
		})
	}
}

func TestConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cond, want string
	}{
		{"empty", "", `unexpected "" at offset 0`},
		{"blank", "   ", `unexpected "" at offset 3`},
		{"unknown token", "Resource[x] StringEquals 'y'", `unexpected "Resource[x] StringEq" at offset 0`},
		{"unclosed parenthesis", "(ActionMatches{'a'}", `missing ')' at offset 19`},
		{"unclosed brace", "ActionMatches{'a'", `missing '}' at offset 17`},
		{"unquoted action", "ActionMatches{a}", `expected a quoted string at offset 14`},
		{"unterminated string", repoCmp("StringEquals", "x")[:len(repoCmp("StringEquals", "x"))-1], `unterminated string at offset 81`},
		{"unsupported operator", repoAttribute + " StringLike 'x'", `unsupported operator at offset 67: "StringLike 'x'"`},
		{"missing operand", "ActionMatches{'a'} AND", `unexpected "" at offset 22`},
		{"dangling not", "!", `unexpected "" at offset 1`},
		{"trailing text", "ActionMatches{'a'} ActionMatches{'b'}", `unexpected "ActionMatc" at offset 19`},
		{"stray closing parenthesis", "ActionMatches{'a'})", `unexpected ")" at offset 18`},
		{"too deep", strings.Repeat("(", maxConditionDepth) + "ActionMatches{'a'}" + strings.Repeat(")", maxConditionDepth),
			`nested more than 64 levels deep at offset 64`},
		{"too many negations", strings.Repeat("!", maxConditionDepth) + "ActionMatches{'a'}", `nested more than 64 levels deep at offset 64`},
		// A megabyte of parentheses used to overflow the stack, which is
		// fatal: the simulator died on a hostile world file.
		{"hostile nesting", strings.Repeat("(", 1<<20), `nested more than 64 levels deep at offset 64`},
		{"hostile negation", strings.Repeat("!(", 1<<19), `nested more than 64 levels deep at offset 64`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateCondition(tt.cond)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
	ok := strings.Repeat("(", maxConditionDepth-1) + "ActionMatches{'a'}" + strings.Repeat(")", maxConditionDepth-1)
	assert.NoError(t, ValidateCondition(ok), "%d levels are fine", maxConditionDepth-1)
}

// conditionAllows evaluates cond as a compiled assignment would.
func conditionAllows(cond, action, repo string) bool {
	expr, _ := parseCondition(cond)
	return (&Assignment{Condition: cond, condition: expr}).conditionAllows(action, repo)
}

func TestConditionAllowsInvalidConditionDenies(t *testing.T) {
	t.Parallel()
	assert.False(t, conditionAllows("(", ActionPull, "x"))
	assert.True(t, conditionAllows(condNginx, ActionPull, "nginx"))
	assert.False(t, conditionAllows(condNginx, ActionMetadataRead, "redis"))
	assert.True(t, conditionAllows(condNginx, ActionPush, "redis"))
	assert.True(t, conditionAllows(condNginx, "unknown-action", "redis"), "no data actions to check")
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		condNginx, condTeam1, condTeam1All, "", "(", "!", "ActionMatches{'",
		repoCmp("StringEquals", "x"), repoCmp("StringStartsWithIgnoreCase", "ü/"),
		"a OR b", "((((", strings.Repeat("!(", 100),
	} {
		f.Add(s, "nginx")
	}
	f.Fuzz(func(t *testing.T, cond, repo string) {
		e, err := parseCondition(cond)
		if err != nil {
			assert.Nil(t, e)
			return
		}
		for _, a := range []string{daContentRead, daMetadataRead, daContentWrite, daContentDelete} {
			e.eval(a, repo)
		}
		assert.NoError(t, ValidateCondition(cond))
	})
}
