// Package conformance checks implementations against the wire behaviour azsim
// simulates (reference/protocols.md), the way the OCI distribution-spec
// conformance suite checks registries and csi-sanity checks CSI drivers.
//
// It has one engine and several suites. The engine runs cases that have
// hierarchical IDs ("providers/entra/token/fic/audience-mismatch") into a
// result tree; statuses are ordered Unknown < Disabled < Skip < Pass < Fail <
// Error and a parent's status is the worst of its children's. Fail means the
// implementation diverges from the expected wire behaviour; Error means the
// harness itself broke (a target that should be up does not answer, setup
// failed). Cases declare the features they need; a target that does not
// declare a feature gets Disabled, not Fail. Reports: a console tree, JUnit
// XML, JSON and a Markdown summary for a GitHub Actions job summary.
//
// Suites:
//
//   - providers (ProvidersSuite): HTTP-level cases for implementations of the
//     endpoints themselves (Entra ID token endpoint and discovery, IMDS, the
//     AKS OIDC issuer, ACR challenge/exchange/token and registry
//     authorization), including every negative case of protocols.md sections
//     1-3. The target is described by a Target (a YAML file) and reached by
//     URL only; the package never links the simulator in. Cases that need
//     world changes (minting service-account tokens, moving the clock,
//     installing fixture identities) go through azsim's admin API and are
//     Disabled for targets without one (real Azure, another emulator).
//   - token-credential (TokenCredentialSuite; conformancetest.TestTokenCredential
//     runs it as Go subtests): checks any azcore.TokenCredential against an
//     azsim instance.
//
// The clients suite (kubelet credential providers and exec plugins run
// inside `azsim exec`; AcrPullBinding controllers in a cluster wired by
// `azsim kind up`, AcrPullBindingSuite) plugs into the same engine.
package conformance
