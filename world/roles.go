package world

import "strings"

// Role is a built-in Azure role definition (protocols.md 4.1).
type Role struct {
	Name string
	ID   string
	// Data-plane capabilities on a registry.
	Legacy []string // token actions granted in legacy (RBAC-only) registries
	ABAC   []string // token actions granted in ABAC-mode registries
	// Catalog reports whether the role lists the catalog (registry:catalog:*).
	CatalogLegacy, CatalogABAC bool
}

// Token actions (protocols.md 3.1, 4.1).
const (
	ActionPull          = "pull"
	ActionPush          = "push"
	ActionDelete        = "delete"
	ActionMetadataRead  = "metadata_read"
	ActionMetadataWrite = "metadata_write"
)

var (
	readActions  = []string{ActionPull, ActionMetadataRead}
	writeActions = []string{ActionPull, ActionMetadataRead, ActionPush, ActionMetadataWrite}
	allActions   = []string{ActionPull, ActionMetadataRead, ActionPush, ActionMetadataWrite, ActionDelete}
)

// BuiltinRoles lists the built-in roles azsim knows. In legacy mode
// Owner/Contributor = push+pull(+delete), Reader = pull, AcrPush = push+pull,
// AcrPull = pull, AcrDelete = delete. In ABAC mode only the Container Registry
// Repository roles grant data-plane access (protocols.md 4.2).
// Whether AcrPull alone grants metadata_read in legacy mode is unconfirmed
// ([L] in protocols.md 4.1); azsim grants it, as tag listing works with
// AcrPull in practice.
var BuiltinRoles = []Role{
	{Name: "AcrPull", ID: "7f951dda-4ed3-4680-a7ca-43fe172d538d", Legacy: readActions},
	{Name: "AcrPush", ID: "8311e382-0749-4cb8-b61a-304f252e45ec", Legacy: writeActions},
	{Name: "AcrDelete", ID: "c2f4ef07-c644-48eb-af81-4b1b4947fb11", Legacy: []string{ActionDelete}},
	{Name: "AcrImageSigner", ID: "6cef56e8-d556-48e5-a04f-b8e64114680f"},
	{Name: "AcrQuarantineReader", ID: "cdda3590-29a3-44f6-95f2-9f980659eb04"},
	{Name: "AcrQuarantineWriter", ID: "c8d4ff99-41c3-41a8-9f60-21dfdad59608"},
	{Name: "Container Registry Repository Reader", ID: "b93aa761-3e63-49ed-ac28-beffa264f7ac", ABAC: readActions},
	{Name: "Container Registry Repository Writer", ID: "2a1e307c-b015-4ebd-883e-5b7698a07328", ABAC: writeActions},
	{Name: "Container Registry Repository Contributor", ID: "2efddaa5-3f1f-4df3-97df-af3f13818f4c", ABAC: allActions},
	{Name: "Container Registry Repository Catalog Lister", ID: "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7", CatalogABAC: true},
	{Name: "Container Registry Data Importer and Data Reader", ID: "577a9874-89fd-4f24-9dbd-b5034d0ad23a", Legacy: readActions, ABAC: readActions, CatalogLegacy: true, CatalogABAC: true},
	{Name: "Container Registry Contributor and Data Access Configuration Administrator", ID: "3bc748fc-213d-45c1-8d91-9da5725539b9"},
	{Name: "Owner", ID: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", Legacy: allActions, CatalogLegacy: true},
	{Name: "Contributor", ID: "b24988ac-6180-42a0-ab88-20f7382dd24c", Legacy: allActions, CatalogLegacy: true},
	{Name: "Reader", ID: "acdd72a7-3385-48ef-bd42-f606fba81ae7", Legacy: readActions},
	{Name: "Role Based Access Control Administrator", ID: "f58310d9-a9f6-439a-9e8d-f62e7b41a168"},
	{Name: "User Access Administrator", ID: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"},
	{Name: "Managed Identity Operator", ID: "f1a07417-d97a-45cb-824c-7a7467783830"},
	{Name: "Virtual Machine Contributor", ID: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"},
}

// LookupRole finds a built-in role by name (case-insensitive), GUID, or
// role definition resource ID.
func LookupRole(s string) (Role, bool) {
	if i := strings.LastIndex(s, "/"); i >= 0 && strings.Contains(strings.ToLower(s), "roledefinitions/") {
		s = s[i+1:]
	}
	for _, r := range BuiltinRoles {
		if strings.EqualFold(r.Name, s) || strings.EqualFold(r.ID, s) {
			return r, true
		}
	}
	return Role{}, false
}
