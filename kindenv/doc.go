// Package kindenv is azsim's kind integration: Up creates (or reuses) a kind
// cluster wired to a simulator container (issuer, CA, IMDS, the kubelet's
// credential provider), Down deletes it, NewScenarioTarget runs the pitfall
// scenarios on it, and BuildNodeImage builds the offline node image
// ChooseNodeImage falls back to when no registry answers.
//
// The implementation lives in kindenv/internal: render (the pure config
// rendering, golden-tested), docker and kindcluster (the engine and
// sigs.k8s.io/kind), simcontainer (the simulator's container), kindstate
// (what kind.json records), scenariotarget and nodeimage.
//
// Facts it relies on are in docs/reference/kind-offline.md, cited by section
// number ("kind-offline.md 6.3").
package kindenv
