package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A minimal Chrome DevTools Protocol client on the standard library: it
// starts headless Chromium, opens a WebSocket (RFC 6455, client side:
// masked frames out, fragmented frames in) to the first page target, and
// sends commands one at a time.

// browser is a headless Chromium process and its page connection.
type browser struct {
	cmd  *exec.Cmd
	conn *wsConn
	dir  string

	mu     sync.Mutex
	nextID int
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

// startBrowser launches Chromium with a fresh profile and connects to
// its page.
func startBrowser(ctx context.Context, bin, dir string) (*browser, error) {
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &browser{cmd: cmd, dir: dir}
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				wsURL <- m[1]
				sent = true
			}
		}
		if !sent {
			close(wsURL)
		}
	}()
	var browserURL string
	select {
	case u, ok := <-wsURL:
		if !ok {
			b.close()
			return nil, errors.New("chromium exited without a DevTools address")
		}
		browserURL = u
	case <-time.After(30 * time.Second):
		b.close()
		return nil, errors.New("chromium printed no DevTools address in 30s")
	}
	page, err := pageTarget(ctx, browserURL)
	if err != nil {
		b.close()
		return nil, err
	}
	if b.conn, err = dialWS(ctx, page); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// pageTarget finds the WebSocket URL of the first page through /json/list.
func pageTarget(ctx context.Context, browserURL string) (string, error) {
	u, err := url.Parse(browserURL)
	if err != nil {
		return "", err
	}
	for range 50 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+u.Host+"/json/list", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var targets []struct{ Type, WebSocketDebuggerURL string }
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
			for _, t := range targets {
				if t.Type == "page" && t.WebSocketDebuggerURL != "" {
					return t.WebSocketDebuggerURL, nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", errors.New("no page target")
}

func (b *browser) close() {
	if b.conn != nil {
		b.conn.c.Close()
	}
	if b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		_ = b.cmd.Wait()
	}
	// Helper processes may still be writing the profile for a moment.
	for range 50 {
		if os.RemoveAll(b.dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// callTimeout bounds one DevTools command, events included.
const callTimeout = 30 * time.Second

// call sends one command and returns its result, skipping events.
func (b *browser) call(method string, params any, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	id := b.nextID
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	b.conn.deadline = time.Now().Add(callTimeout)
	if err := b.conn.write(msg); err != nil {
		return err
	}
	for {
		data, err := b.conn.read()
		if err != nil {
			return err
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &resp) != nil || resp.ID != id {
			continue // an event
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(resp.Result, out)
		}
		return nil
	}
}

func (b *browser) navigate(u string) error {
	return b.call("Page.navigate", map[string]any{"url": u}, nil)
}

// eval evaluates a JavaScript expression in the page and returns its
// value as a string ("" on an exception, as during a navigation).
func (b *browser) eval(expr string) (string, error) {
	var out struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &out); err != nil {
		return "", err
	}
	if out.ExceptionDetails != nil || out.Result.Value == nil {
		return "", nil
	}
	return fmt.Sprint(out.Result.Value), nil
}

// do evaluates an expression that may navigate away (a click on a link
// or a submit button): the page going away while it runs is success.
func (b *browser) do(expr string) error {
	_, err := b.eval(expr)
	if err != nil && (strings.Contains(err.Error(), "navigated or closed") ||
		strings.Contains(err.Error(), "context was destroyed")) {
		return nil
	}
	return err
}

// waitFor polls expr until it evaluates to "true".
func (b *browser) waitFor(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		v, err := b.eval(expr)
		if err != nil && !strings.HasPrefix(err.Error(), "Runtime.evaluate: ") {
			return err // the connection broke; a page error is transient
		}
		if v == "true" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := b.eval("location.href")
	text, _ := b.eval("document.body ? document.body.innerText.slice(0, 500) : ''")
	return fmt.Errorf("timed out waiting for %s at %s: %q", expr, loc, text)
}

// wsConn is a client WebSocket connection.
type wsConn struct {
	c  net.Conn
	br *bufio.Reader
	// deadline bounds the current command: events keep arriving while
	// it waits, so a per-frame timeout alone could wait forever.
	deadline time.Time
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func dialWS(ctx context.Context, raw string) (*wsConn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, key)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		c.Close()
		return nil, err
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	return &wsConn{c: c, br: br}, nil
}

// write sends one masked text frame.
func (w *wsConn) write(p []byte) error {
	hdr := []byte{0x81}
	switch n := len(p); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	body := make([]byte, len(p))
	for i := range p {
		body[i] = p[i] ^ mask[i%4]
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := w.c.Write(append(hdr, body...))
	return err
}

// read returns the next complete text or binary message, answering pings.
func (w *wsConn) read() ([]byte, error) {
	_ = w.c.SetReadDeadline(w.deadline)
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 64<<20 {
			return nil, errors.New("websocket frame too large")
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return nil, err
		}
		switch op {
		case 0x8:
			return nil, io.EOF
		case 0x9: // ping: answer with a pong (masked, as a client must)
			var mask [4]byte
			frame := append([]byte{0x8a, 0x80 | byte(len(payload))}, mask[:]...)
			_, _ = w.c.Write(append(frame, payload...))
			continue
		case 0xa:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

func chromiumPath() string {
	if p := os.Getenv("SFSYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
