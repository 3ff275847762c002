package sftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// testServer starts a seeded org and returns it with a live access token.
func testServer(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	tok, _ := s.NewSession()
	return s, tok
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func do(t testing.TB, s *Server, token, method, path string, hdr map[string]string, body io.Reader) resp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

func get(t testing.TB, s *Server, token, path string) resp {
	t.Helper()
	return do(t, s, token, http.MethodGet, path, nil, nil)
}

func query(t testing.TB, s *Server, token, soql string) resp {
	t.Helper()
	return get(t, s, token, "/services/data/v62.0/query?q="+url.QueryEscape(soql))
}
