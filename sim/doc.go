// Package sim is azsim's composition root. It builds the world store, the
// state directory (CA and signing keys), the fakes (Entra ID, the AKS OIDC
// issuer, IMDS per node pool, ACR per registry), and serves them:
//
//   - one HTTPS listener answering every Azure host name of the world by
//     Host/SNI with a certificate from the simulator's CA;
//   - one plain-HTTP IMDS listener per node pool;
//   - the admin API on loopback.
//
// Start(t, w) runs the whole simulator inside a Go test and gives an
// http.Client that trusts the CA and dials the fakes for any Azure host name
// (and 169.254.169.254), so unmodified SDK clients reach the fakes by their
// real names.
package sim
