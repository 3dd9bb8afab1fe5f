package webui_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/auth"
	"github.com/chorus-hpc/chorus/internal/auth/authtest"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// TestDashboardWithAuth runs the dashboard against a gateway with authentication on (HS256 JWTs): its
// files load without a token, the API answers the page only with one, and with a token entered in the
// page the session of the token's tenant shows, while another tenant's session is NOT_FOUND.
func TestDashboardWithAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests run in `make test-web` (skipped with -short)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed: run `bash scripts/install-system.sh web`", chromiumPath)
	}
	t.Parallel()
	const audience, issuer = "chorus-dashboard-test", "chorus-dashboard-test-issuer"
	secret := []byte("a-test-secret-of-at-least-32-bytes-long!")
	secretFile := filepath.Join(t.TempDir(), "jwt-secret")
	authtest.WriteFile(t, secretFile, secret)
	token := func(tenant string) string {
		return authtest.HS256(t, secret, authtest.Claims{Tenant: tenant, Subject: "web", Roles: []string{"user"}, Audience: audience, Issuer: issuer})
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := stacktest.Start(t, stacktest.Config{
		Gateway: gateway.Config{DeclaredPartitions: []string{"go"}, Logger: quiet,
			Auth: auth.Config{JWTSecretFile: secretFile, JWTAudience: audience, JWTIssuer: issuer}},
		Store: valkeystore.Config{Logger: quiet},
	})
	base := "http://" + st.Gateway.HTTPAddr()

	createSession := func(tok string) string {
		req, _ := http.NewRequest("POST", base+"/v1/sessions", strings.NewReader(`{"defaultTaskOptions":{"partition":"go"}}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		i := strings.Index(string(b), `"sessionId":"`)
		if resp.StatusCode != http.StatusOK || i < 0 {
			t.Fatalf("POST /v1/sessions: HTTP %d %s", resp.StatusCode, b)
		}
		rest := string(b)[i+len(`"sessionId":"`):]
		return rest[:strings.Index(rest, `"`)]
	}
	mine, theirs := createSession(token("acme")), createSession(token("globex"))

	s := &stack{base: base, shots: filepath.Join(stacktest.RepoRoot(t), "web", ".screenshots")}
	tb := s.tabIn(t, newBrowser(t))
	// Without a token the page loads and says what to do.
	tb.open("/sessions/" + mine)
	tb.waitJS("the page asking for a token", `document.querySelector('[role="alert"]')?.textContent.includes("set an API token")`, 20*time.Second)
	tb.screenshot("auth-no-token")
	tb.mu.Lock()
	tb.errors = nil // the refused API calls are logged by the browser as failed resources: expected here
	tb.mu.Unlock()
	tb.run(chromedp.SendKeys(`input[data-token]`, token("acme"), chromedp.ByQuery), chromedp.Click(`form.token button[type="submit"]`, chromedp.ByQuery))
	tb.waitJS("the session with the token", fmt.Sprintf(`localStorage.getItem("chorus.token") !== null && document.querySelector('h1 .badge')?.dataset.status === "running" && document.querySelector('.live.on') !== null && %q !== ""`, mine), 20*time.Second)
	tb.screenshot("auth-token")
	tb.noErrors("session page with a token")
	// Another tenant's session does not exist for this token.
	tb.open("/sessions/" + theirs)
	tb.waitJS("another tenant's session refused", fmt.Sprintf(`document.querySelector('[role="alert"]')?.textContent.includes(%q)`, theirs), 20*time.Second)
	tb.screenshot("auth-other-tenant")
}
