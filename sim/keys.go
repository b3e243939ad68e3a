package sim

import "fmt"

// RotateIssuerKeys gives the issuer of cluster a new signing key, keeping
// the previous one unless dropOld, and returns the key IDs it now
// publishes, the active one last.
func (s *Sim) RotateIssuerKeys(cluster string, dropOld bool) ([]string, error) {
	c, ok := s.store.Snapshot().Cluster(cluster)
	if !ok {
		return nil, fmt.Errorf("rotating the issuer keys of %q: unknown cluster", cluster)
	}
	keys, err := s.issuerKeys.Rotate(c.Name, dropOld)
	if err != nil {
		return nil, err
	}
	kids := make([]string, 0, len(keys))
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	return kids, nil
}
