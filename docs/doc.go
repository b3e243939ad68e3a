// Package docs holds azsim's design document (DESIGN.md) and the wire
// references the code cites (reference/protocols.md, reference/clients.md,
// reference/kind-offline.md). It has no code of its own; its tests keep code,
// documents and the package layers in agreement:
//
//   - every citation in a Go comment ("protocols.md 3.1", "clients.md 5.4",
//     "ref §6.3", `DESIGN.md "Admin API"`) names a file and a section that
//     exist here;
//   - every import between module packages follows the layer table of
//     DESIGN.md "Packages and layers", and every package has a row.
package docs
