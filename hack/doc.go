// Package hack holds the repository's scripts (docker-bootstrap.sh, the tools
// modules under tools/) and the tests of their shell functions.
package hack
