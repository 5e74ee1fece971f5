package reports

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestBrowserRendersReport opens index.html in headless Chromium, offline,
// and checks that it renders every plot and table with no console error or
// failed load. It needs Debian's chromium (.ci/run installs it) and is
// skipped without it.
func TestBrowserRendersReport(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	figs, err := Render(dir, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The flags keep Chromium off the network (this machine has none) and
	// out of the user's profile.
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--dump-dom", "file://"+filepath.Join(dir, "index.html"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := stdout.Bytes()
	if n := bytes.Count(dom, []byte("<svg")); n != len(figs) {
		t.Errorf("the rendered page has %d SVG plots, want %d", n, len(figs))
	}
	if n := bytes.Count(dom, []byte("<table")); n != len(Tables(sample(t))) {
		t.Errorf("the rendered page has %d tables, want %d", n, len(Tables(sample(t))))
	}
	if !bytes.Contains(dom, []byte("Model vs simulation")) {
		t.Error("the rendered page lacks the summary")
	}
	// Console messages and failed loads, as Chromium logs them.
	bad := regexp.MustCompile(`(?i)CONSOLE[:(]|Uncaught|Failed to load|net::ERR_`)
	for _, line := range bytes.Split(stderr.Bytes(), []byte("\n")) {
		if bad.Match(line) {
			t.Errorf("chromium: %s", line)
		}
	}
	if testing.Verbose() {
		os.WriteFile(filepath.Join(os.TempDir(), "kendall-report-dom.html"), dom, 0o644)
	}
}
