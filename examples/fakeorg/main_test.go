package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-records", "7", "-changes", "2s",
		"-outbound", "Account=http://127.0.0.1:8080/webhook", "-outbound", "Contact=http://x/y", "-redirect-uri", "http://localhost:1/cb", "-outbound-timeout", "5s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.opts.Records != 7 || c.changes != 2*time.Second || len(c.outbound) != 2 || c.opts.RedirectURIs[0] != "http://localhost:1/cb" ||
		c.opts.OutboundTimeout != 5*time.Second {
		t.Errorf("config %+v", c)
	}
	if _, err := parseFlags([]string{"-outbound", "nourl"}); err == nil {
		t.Error("-outbound without =URL accepted")
	}
}

func TestRun(t *testing.T) {
	c, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-records", "20", "-changes", "10ms", "-outbound", "Account=http://127.0.0.1:1/hook"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, pw, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"login_url", "instance_url", "client_id", "client_secret", "redirect_uris", "username", "password", "access_token", "refresh_token"} {
		if _, ok := info[k]; !ok {
			t.Errorf("start line lacks %s: %s", k, line)
		}
	}
	time.Sleep(50 * time.Millisecond) // let a few random changes happen
	req, _ := http.NewRequest("GET", info["instance_url"].(string)+"/services/data/v62.0/query?q="+url.QueryEscape("SELECT COUNT() FROM Account"), nil)
	req.Header.Set("Authorization", "Bearer "+info["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"totalSize":`) {
		t.Errorf("query: %d %s", res.StatusCode, b)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
