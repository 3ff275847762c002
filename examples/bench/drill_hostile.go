package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sftest"
)

// hostileLatencyBound is the slowest ack a real delivery may get under
// hostile load: a sixth of the 60 s Salesforce waits for one delivery
// attempt (SALESFORCE.md 5), beyond which it retries.
const hostileLatencyBound = 10 * time.Second

// hostileSenders is how many goroutines send hostile requests.
const hostileSenders = 4

// hostileRequest is one kind of hostile webhook and the status it must
// get.
type hostileRequest struct {
	kind        string
	contentType string
	body        []byte
	chunked     bool // send without Content-Length
	want        int
}

// hostileRequests builds the hostile kinds. valid is a well-formed
// message of the connected org.
func hostileRequests(valid []byte, orgID string) []hostileRequest {
	huge := make([]byte, 0, 20<<20)
	huge = append(huge, valid[:bytes.Index(valid, []byte("<Notification>"))]...)
	huge = append(huge, "<Notification><Id>"...)
	huge = append(huge, bytes.Repeat([]byte("A"), 20<<20-len(huge)-64)...)
	huge = append(huge, "</Id></Notification></notifications></soapenv:Body></soapenv:Envelope>"...)

	deep := &bytes.Buffer{}
	deep.WriteString(`<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>`)
	for range 200_000 {
		deep.WriteString("<a>")
	}
	for range 200_000 {
		deep.WriteString("</a>")
	}
	deep.WriteString("</soapenv:Body></soapenv:Envelope>")

	laughs := &bytes.Buffer{}
	laughs.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := fmt.Sprintf("lol%d", i)
		fmt.Fprintf(laughs, " <!ENTITY %s \"%s\">\n", name, strings.Repeat("&"+prev+";", 10))
		prev = name
	}
	laughs.WriteString("]>\n")
	laughs.Write(bytes.Replace(stripDecl(valid), []byte("<Id>"), []byte("<Id>&"+prev+";"), 1))

	xxe := append([]byte("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"),
		bytes.Replace(stripDecl(valid), []byte("<Id>"), []byte("<Id>&x;"), 1)...)

	otherOrg, _ := sftest.To18("00D000000000042")
	wrongOrg := bytes.ReplaceAll(valid, []byte(orgID), []byte(otherOrg))
	wrongOrg = bytes.ReplaceAll(wrongOrg, []byte(orgID[:15]), []byte(otherOrg[:15]))

	xml := "text/xml; charset=utf-8"
	return []hostileRequest{
		{kind: "huge body (20 MiB)", contentType: xml, body: huge, want: http.StatusRequestEntityTooLarge},
		{kind: "huge body, chunked", contentType: xml, body: huge, chunked: true, want: http.StatusRequestEntityTooLarge},
		{kind: "deep nesting (200k)", contentType: xml, body: deep.Bytes(), want: http.StatusBadRequest},
		{kind: "entity expansion", contentType: xml, body: laughs.Bytes(), want: http.StatusBadRequest},
		{kind: "external entity", contentType: xml, body: xxe, want: http.StatusBadRequest},
		{kind: "wrong org", contentType: xml, body: wrongOrg, want: http.StatusForbidden},
		{kind: "wrong content type", contentType: "application/json", body: valid, want: http.StatusUnsupportedMediaType},
		{kind: "not XML", contentType: xml, body: []byte("hello"), want: http.StatusBadRequest},
	}
}

func stripDecl(b []byte) []byte {
	if i := bytes.Index(b, []byte("?>")); bytes.HasPrefix(b, []byte("<?xml")) && i > 0 {
		return b[i+2:]
	}
	return b
}

// sendHostile posts one hostile request and returns the status and
// whether the answer was an acknowledgement. A connection the server
// closes while a huge body is still being sent counts as refused only
// when no status was read, which the caller reports.
func sendHostile(ctx context.Context, hc *http.Client, url string, r hostileRequest) (int, bool, error) {
	var body io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // hides the length: chunked encoding
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", r.contentType)
	req.Header.Set("SOAPAction", `""`)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, hasAck(string(ans)), nil
}

// drillHostile: hostile webhooks arrive from hostileSenders senders while real
// deliveries keep coming. Each hostile request must get its status and
// never an ack; every real delivery must be acknowledged and applied,
// every one within hostileLatencyBound. The unloaded and loaded ack
// latencies are reported side by side: on a 2-core machine the hostile
// senders (in this process) and the server share the CPUs, so the
// slowdown says more about the machine than about the handler, and the
// bound is absolute.
func drillHostile(ctx context.Context, d *drillEnv) (string, error) {
	h, err := d.harness(ctx, sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: webhookDrillRecords}}, nil)
	if err != nil {
		return "", err
	}
	defer h.close()
	actionID, _ := sftest.To18("04k000000000007")
	h.sync.SetAction(actionID, outbound.Action{Object: benchObject, Fields: webhookFields})
	ids := h.ids(benchObject)
	notif := &idSeq{prefix: "04l"}
	next := 0
	makeMsgs := func(n int) ([]soapMessage, error) {
		out := make([]soapMessage, n)
		h.tick()
		for i := range out {
			recs := make([]map[string]any, 10)
			for j := range recs {
				id := ids[next%len(ids)]
				next++
				if err := h.sf.Org.Update(benchObject, id, map[string]any{"Phone": fmt.Sprintf("real %d", next)}); err != nil {
					return nil, err
				}
				recs[j], _ = h.sf.Org.Get(benchObject, id)
			}
			out[i] = buildMessage(h.org, actionID, h.sf.URL, notif, benchObject, recs, webhookFields)
		}
		return out, nil
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer hc.CloseIdleConnections()
	url := h.web.URL + "/webhook"
	real := func(msgs []soapMessage) ([]time.Duration, error) {
		res := sendAll(ctx, hc, url, msgs, 2)
		var lats []time.Duration
		for i, r := range res {
			if r.err != nil || !r.acked {
				return nil, fmt.Errorf("real delivery %d: status %d, %v", i, r.status, r.err)
			}
			lats = append(lats, r.latency)
		}
		return lats, checkApplied(ctx, h, msgs)
	}

	base, err := makeMsgs(40)
	if err != nil {
		return "", err
	}
	baseLat, err := real(base)
	if err != nil {
		return "", fmt.Errorf("unloaded: %w", err)
	}
	loaded, err := makeMsgs(40)
	if err != nil {
		return "", err
	}
	hostile := hostileRequests(base[0].body, h.org)

	type tally struct {
		sent, right int
		took        time.Duration
	}
	var mu sync.Mutex
	counts := map[string]*tally{}
	var bad []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range hostileSenders {
		wg.Go(func() {
			hhc := &http.Client{Timeout: time.Minute}
			defer hhc.CloseIdleConnections()
			for i := s; i < s+2000; i++ { // bounded; stopped when the real sends end
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				r := hostile[i%len(hostile)]
				t0 := time.Now()
				status, acked, err := sendHostile(ctx, hhc, url, r)
				took := time.Since(t0)
				mu.Lock()
				t := counts[r.kind]
				if t == nil {
					t = &tally{}
					counts[r.kind] = t
				}
				t.sent++
				t.took += took
				switch {
				case err != nil && ctx.Err() == nil:
					bad = append(bad, fmt.Sprintf("%s: %v", r.kind, err))
				case acked || status != r.want:
					if err == nil {
						bad = append(bad, fmt.Sprintf("%s: status %d (ack %v), want %d", r.kind, status, acked, r.want))
					}
				default:
					t.right++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let the hostile load build up
	loadedLat, err := real(loaded)
	close(stop)
	wg.Wait()
	if err != nil {
		return "", fmt.Errorf("under hostile load: %w", err)
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("%d hostile requests not rejected right, first: %s", len(bad), bad[0])
	}
	var kinds []string
	total := 0
	for k, t := range counts {
		kinds = append(kinds, fmt.Sprintf("%s: %d, %.0f ms each", k, t.sent, ms(t.took)/float64(t.sent)))
		total += t.sent
	}
	sort.Strings(kinds)
	if len(counts) < len(hostile) {
		return "", fmt.Errorf("only %d of %d hostile kinds were sent during the real deliveries: %v", len(counts), len(hostile), kinds)
	}
	p99a, p99b := quantile(baseLat, 0.99), quantile(loadedLat, 0.99)
	detail := fmt.Sprintf("%d hostile requests rejected with the right status (%s); real deliveries: all %d acked and applied, ack p50/p99 %.1f/%.1f ms unloaded, %.1f/%.1f ms under hostile load",
		total, strings.Join(kinds, ", "), len(base)+len(loaded), ms(quantile(baseLat, 0.5)), ms(p99a), ms(quantile(loadedLat, 0.5)), ms(p99b))
	if maxb := quantile(loadedLat, 1); maxb > hostileLatencyBound {
		return "", fmt.Errorf("a real delivery took %s under hostile load, over %s: %s", maxb, hostileLatencyBound, detail)
	}
	return detail, nil
}
