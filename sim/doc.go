// Package sim is azsim's composition root. It builds the world store, the
// state directory (CA and signing keys), the fakes (Entra ID, the AKS OIDC
// issuer, IMDS per node pool, ACR per registry), and serves them:
//
//   - one HTTPS listener answering every Azure host name of the world by
//     Host/SNI with a certificate from the simulator's CA;
//   - one plain-HTTP IMDS listener per node pool;
//   - the admin API on loopback.
//
// A Sim is reached only through its methods, in api and world terms: the
// world store, the decisions, fault rules, issuer key rotation, the CA and
// the state directory. Client and Transport trust the CA and dial the fakes
// for any Azure host name (and 169.254.169.254), so unmodified SDK clients
// reach the fakes by their real names. Package sim/simtest runs a whole
// simulator inside a Go test.
package sim
