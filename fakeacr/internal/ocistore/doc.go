// Package ocistore is the OCI registry behind each registry of the fake ACR:
// go-containerregistry's pkg/registry with blobs linked to the repositories
// they were pushed to, kept in memory or on disk.
//
// Both stores refuse the manifest pushes ACR refuses (gate: size, digest,
// tag grammar, media type, absent blobs or child manifests) and serve blob
// uploads themselves (sessions): content streams into the store, idle
// sessions expire on the registry's clock, and each principal holds a
// bounded number of them. In memory, blobs are kept in chunks, so a blob
// costs its size once.
//
// On disk a registry keeps, under dir/<login server>/, its blobs
// (blobs/sha256/<hex>, written to a temporary file, digest-checked, fsynced
// and renamed), the repository links of blobs (links/) and its manifests
// (manifests/, under their tag and their digest). A manifest push or
// delete is recorded before it is served and undone when refused, so one
// that cannot be recorded fails (500) and leaves nothing a restart would
// restore. Uploads stream to disk (uploads/), so images larger than memory
// can be pushed and pulled, and a registry opened again on the same
// directory serves what was pushed before: it always opens, logging and
// counting what it cannot restore. Uploads in progress do not survive a
// restart, as on ACR.
//
// In both stores a manifest deleted by digest takes the tags naming it
// along, as on ACR (pkg/registry deletes only the reference it is given).
package ocistore
