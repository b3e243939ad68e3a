package conformance

import (
	"fmt"
	"strings"
	"time"
)

func (d *apb) caseOK(c *C) {
	d.createBinding(c, "apb-wi", "apb-wi", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-wi", false)
	d.checkSecret(c, "apb-wi", "apb-wi", st)
	d.pull(c, "apb-wi-pull", "apb-wi", d.image, true)
}

func (d *apb) caseSpecIDs(c *C) {
	d.createBinding(c, "apb-spec-ids", "apb-spec-ids", "repository:"+repoOf(d.image)+":pull", "",
		fmt.Sprintf("workloadIdentity: {serviceAccountRef: apb-spec-ids, clientID: %q, tenantID: %q}", d.clients[apbIdentity], d.tenant))
	st := d.waitStatus(c, "apb-spec-ids", false)
	d.checkSecret(c, "apb-spec-ids", "apb-spec-ids", st)
}

func (d *apb) caseScope(c *C) {
	d.createBinding(c, "apb-scope", "apb-scope", "repository:azsim-apb-other:pull", "", "")
	st := d.waitStatus(c, "apb-scope", false)
	d.checkSecret(c, "apb-scope", "apb-scope", st)
	d.pull(c, "apb-scope-pull", "apb-scope", d.image, false)
}

// checkNoSecret asserts that a failing binding left no pull secret.
func (d *apb) checkNoSecret(c *C, binding, sa string) {
	_, ok := d.secret(c, binding)
	c.Check(!ok, "secret %s%s exists although the binding failed", apbSecretPrefix, binding)
	c.Check(!contains(d.saPullSecrets(c, sa), apbSecretPrefix+binding), "service account %s lists %s%s although the binding failed", sa, apbSecretPrefix, binding)
}

func (d *apb) caseMissingClientID(c *C) {
	d.createBinding(c, "apb-no-client-id", "apb-no-client-id", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-no-client-id", true)
	c.Check(strings.Contains(st.Error, "azure.workload.identity/client-id"), "status.error %q should name the azure.workload.identity/client-id annotation", st.Error)
	d.checkNoSecret(c, "apb-no-client-id", "apb-no-client-id")
}

func (d *apb) caseWrongAudience(c *C) {
	d.createBinding(c, "apb-wrong-audience", apbSAWrongAudience, "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-wrong-audience", true)
	c.Check(strings.Contains(st.Error, "AADSTS700212"), "status.error %q should carry Entra's AADSTS700212 (no federated credential for audience %s)", st.Error, apbAudience)
	d.checkNoSecret(c, "apb-wrong-audience", apbSAWrongAudience)
}

func (d *apb) caseWrongServer(c *C) {
	d.createBinding(c, "apb-wrong-server", "apb-wrong-server", "repository:"+repoOf(d.image)+":pull", "azsimapbmissing.azurecr.io", "")
	d.waitStatus(c, "apb-wrong-server", true)
	d.checkNoSecret(c, "apb-wrong-server", "apb-wrong-server")
}

func (d *apb) caseRefresh(c *C) {
	d.createBinding(c, "apb-refresh", "apb-refresh", "repository:"+repoOf(d.image)+":pull", "", "")
	st := d.waitStatus(c, "apb-refresh", false)
	first := d.checkSecret(c, "apb-refresh", "apb-refresh", st)
	exp, err := time.Parse(time.RFC3339, st.TokenExpirationTime)
	c.Must(err == nil, "status.tokenExpirationTime %q: %v", st.TokenExpirationTime, err)
	now, err := d.admin.Clock(c.Context())
	if err != nil {
		c.Broken("%v", err)
	}
	if _, err := d.admin.AdvanceClock(c.Context(), exp.Sub(now)+time.Minute); err != nil {
		c.Broken("%v", err)
	}
	c.Logf("simulated clock advanced past the token's expiry %s", exp.Format(time.RFC3339))
	d.pull(c, "apb-refresh-expired", "apb-refresh", d.image, false)
	// Back to the present: a new service-account token would not be valid
	// at the advanced time either. The controller's refresh boundary is on
	// the real clock; a missing secret makes it regenerate at once.
	if _, err := d.admin.SetClock(c.Context(), time.Now().UTC().Truncate(time.Second)); err != nil {
		c.Broken("%v", err)
	}
	d.mustKubectl(c, "", "delete", "secret", "-n", d.cfg.Namespace, apbSecretPrefix+"apb-refresh")
	var st2 apbStatus
	ok, _ := wait(c, 90*time.Second, func() (bool, string) {
		st2 = d.status(c, "apb-refresh")
		_, have := d.secret(c, "apb-refresh")
		return have && st2.Error == "" && st2.LastTokenRefreshTime != st.LastTokenRefreshTime, ""
	})
	c.Must(ok, "after the secret was deleted the binding was not refreshed (status %+v)", st2)
	second := d.checkSecret(c, "apb-refresh", "apb-refresh", st2)
	c.Check(second != first, "the regenerated secret holds the old token")
	d.pull(c, "apb-refresh-renewed", "apb-refresh", d.image, true)
}

func (d *apb) caseMI(c *C) {
	d.createBinding(c, "apb-mi", "apb-mi", "repository:"+repoOf(d.image)+":pull", "", fmt.Sprintf("managedIdentity: {clientID: %q}", d.clients[apbMIIdentity]))
	st := d.waitStatus(c, "apb-mi", false)
	d.checkSecret(c, "apb-mi", "apb-mi", st)
	d.pull(c, "apb-mi-pull", "apb-mi", d.image, true)
}

// repoOf returns the repository of server/repo:tag.
func repoOf(image string) string {
	_, rest, _ := strings.Cut(image, "/")
	repo, _, _ := strings.Cut(rest, ":")
	return repo
}
