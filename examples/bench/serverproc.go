package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
)

// buildServer builds examples/server into dir with the go command and
// returns the binary's path. It skips (errSkip) when there is no go
// command or no module source to build from.
func buildServer(ctx context.Context, dir string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w: no go command to build examples/server", errSkip)
	}
	out, err := exec.CommandContext(ctx, gobin, "env", "GOMOD").Output()
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if err != nil || !fileExists(filepath.Join(root, "examples", "server", "main.go")) {
		return "", fmt.Errorf("%w: run from the sfsync module to build examples/server (GOMOD %q)", errSkip, strings.TrimSpace(string(out)))
	}
	bin := filepath.Join(dir, "sfsync-server")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "./examples/server")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build examples/server: %v\n%s", err, b)
	}
	return bin, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// serverProc is examples/server running as a child process.
type serverProc struct {
	bin  string
	args []string
	env  []string
	addr string
	log  string // path of the log file (stderr), appended to by each start

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// newServerProc prepares a server on a free loopback port, with a fresh
// sealing key, the fake org as its login host, its database in dir.
func newServerProc(bin, dir string, sf *sftest.Server, extra ...string) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	p := &serverProc{bin: bin, addr: addr, log: filepath.Join(dir, "server.log")}
	p.args = append([]string{"-addr", addr, "-db", filepath.Join(dir, "server.db"), "-login-url", sf.URL,
		"-objects", benchObject, "-bulk-threshold", "-1", "-interval", "1h", "-limit-reserve", "0",
		"-log-format", "json"}, extra...)
	p.env = append(os.Environ(), "SFSYNC_CLIENT_ID="+sf.ClientID(), "SFSYNC_CLIENT_SECRET="+sf.ClientSecret(),
		"SFSYNC_KEY="+base64.StdEncoding.EncodeToString(key))
	return p, nil
}

func (p *serverProc) url() string { return "http://" + p.addr }

// start runs the server and waits until /healthz answers.
func (p *serverProc) start(ctx context.Context) error {
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start server: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	hc := &http.Client{Timeout: time.Second}
	for range 300 {
		select {
		case <-done:
			return fmt.Errorf("server exited at start: %s", p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := hc.Get(p.url() + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("server not healthy after 15s: %s", p.tail())
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (p *serverProc) kill9() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return errors.New("server not running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

// stop shuts the server down gracefully (SIGTERM), killing it after
// 40 s; it does nothing when the server is not running.
func (p *serverProc) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// tail returns the end of the server's log, for error messages.
func (p *serverProc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// connectServer logs the server in to the fake org as a browser would.
func connectServer(ctx context.Context, p *serverProc, sf *sftest.Server) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc, err := redirectOf(ctx, hc, p.url()+"/connect")
	if err != nil {
		return fmt.Errorf("server /connect: %w", err)
	}
	cb, err := sf.Authorize(loc)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("server /callback: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("server /callback: %s: %s", resp.Status, p.tail())
	}
	return nil
}

// serverJob is the part of the server's job JSON the drills read.
type serverJob struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Error    string `json:"error"`
	Progress []struct {
		Object string `json:"object"`
		Done   int64  `json:"done"`
	} `json:"progress"`
}

// startServerSync asks the server for a sync of the org (POST
// /salesforce-sync); a sync already running is returned as well.
func startServerSync(ctx context.Context, p *serverProc, orgID string) (*serverJob, error) {
	body, _ := json.Marshal(map[string]any{"orgId": orgID})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url()+"/salesforce-sync", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusAccepted:
		var j serverJob
		return &j, json.Unmarshal(b, &j)
	case http.StatusConflict:
		var busy struct {
			Job serverJob `json:"job"`
		}
		return &busy.Job, json.Unmarshal(b, &busy)
	}
	return nil, fmt.Errorf("POST /salesforce-sync: %s: %s", resp.Status, b)
}

// getServerJob reads a job (GET /salesforce-sync/{id}).
func getServerJob(ctx context.Context, p *serverProc, id string) (*serverJob, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url()+"/salesforce-sync/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("job %s: %s", id, resp.Status)
	}
	var j serverJob
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&j); err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return &j, nil
}

func (j *serverJob) done() int64 {
	var n int64
	for _, p := range j.Progress {
		n += p.Done
	}
	return n
}

// waitServerJob polls a job until it ends (bounded by ctx and 3 minutes).
func waitServerJob(ctx context.Context, p *serverProc, id string) (*serverJob, error) {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		j, err := getServerJob(ctx, p, id)
		if err != nil {
			return nil, err
		}
		switch j.State {
		case "succeeded", "failed", "paused", "canceled":
			return j, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("job %s did not end in 3 minutes", id)
}
