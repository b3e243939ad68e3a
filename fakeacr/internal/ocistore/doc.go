// Package ocistore is the OCI registry behind each registry of the fake ACR:
// go-containerregistry's pkg/registry with blobs linked to the repositories
// they were pushed to, kept in memory or on disk.
//
// On disk a registry keeps, under dir/<login server>/, its blobs
// (blobs/sha256/<hex>, written to a temporary file, digest-checked, fsynced
// and renamed), the repository links of blobs (links/) and its manifests
// (manifests/). Uploads stream to disk (uploads/), so images larger than
// memory can be pushed and pulled, and a registry opened again on the same
// directory serves what was pushed before. Uploads in progress do not
// survive a restart, as on ACR.
package ocistore
