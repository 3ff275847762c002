package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sftest"
)

// webhookFields are the fields of the benchmark's Outbound Message
// action on Account: what a typical action selects, with the
// SystemModstamp that lets the engine apply a notification directly.
var webhookFields = []string{"Id", "Name", "Phone", "Industry", "AnnualRevenue", "Tier__c", "LastModifiedDate", "SystemModstamp"}

// soapMessage is one Outbound Message to send.
type soapMessage struct {
	body    []byte
	notifs  []string // notification IDs
	records []string // record IDs
}

// idSeq makes unique, valid 18-character IDs with a key prefix.
type idSeq struct {
	prefix string
	n      atomic.Int64
}

func (s *idSeq) next() string {
	id, _ := sftest.To18(fmt.Sprintf("%s%012d", s.prefix, s.n.Add(1)))
	return id
}

// buildMessage renders an Outbound Message of the records, in the
// layout of Salesforce's own (fixtures/salesforce/outbound/om_*.xml,
// SALESFORCE.md 5.2): a field whose value is null is left out.
func buildMessage(orgID, actionID, instance string, notif *idSeq, object string, recs []map[string]any, fields []string) soapMessage {
	var b bytes.Buffer
	b.Grow(512 + len(recs)*len(fields)*64)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	b.WriteString(" <soapenv:Body>\n  <notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">\n")
	fmt.Fprintf(&b, "   <OrganizationId>%s</OrganizationId>\n   <ActionId>%s</ActionId>\n   <SessionId xsi:nil=\"true\"/>\n", orgID, actionID)
	fmt.Fprintf(&b, "   <EnterpriseUrl>%s/services/Soap/c/62.0/%s</EnterpriseUrl>\n   <PartnerUrl>%s/services/Soap/u/62.0/%s</PartnerUrl>\n",
		instance, orgID[:15], instance, orgID[:15])
	m := soapMessage{}
	for _, r := range recs {
		nid := notif.next()
		m.notifs = append(m.notifs, nid)
		m.records = append(m.records, r["Id"].(string))
		fmt.Fprintf(&b, "   <Notification>\n    <Id>%s</Id>\n    <sObject xsi:type=\"sf:%s\" xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\">\n", nid, object)
		for _, f := range fields {
			v, ok := soapValue(r[f])
			if !ok {
				continue
			}
			b.WriteString("     <sf:" + f + ">")
			xmlEscape(&b, v)
			b.WriteString("</sf:" + f + ">\n")
		}
		b.WriteString("    </sObject>\n   </Notification>\n")
	}
	b.WriteString("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	m.body = b.Bytes()
	return m
}

// soapValue is a value as an Outbound Message writes it; false for null.
func soapValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return fmt.Sprint(v), true
}

func xmlEscape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
}

// sendResult is the outcome of one POST.
type sendResult struct {
	status  int
	acked   bool
	latency time.Duration
	err     error
}

// post sends one message and reads the answer.
func post(ctx context.Context, hc *http.Client, url, contentType string, body []byte) sendResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return sendResult{err: err}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("SOAPAction", `""`)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return sendResult{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	lat := time.Since(start)
	if err != nil {
		return sendResult{status: resp.StatusCode, err: err, latency: lat}
	}
	acked := resp.StatusCode == http.StatusOK && bytes.Contains(ans, []byte("<Ack>true</Ack>"))
	return sendResult{status: resp.StatusCode, acked: acked, latency: lat}
}

// sendAll posts msgs with the given number of concurrent senders, each
// message once, and returns the results in msgs' order.
func sendAll(ctx context.Context, hc *http.Client, url string, msgs []soapMessage, senders int) []sendResult {
	out := make([]sendResult, len(msgs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(msgs) || ctx.Err() != nil {
					return
				}
				out[i] = post(ctx, hc, url, "text/xml; charset=utf-8", msgs[i].body)
			}
		})
	}
	wg.Wait()
	return out
}

// quantile returns the q-quantile (0..1) of ds, nearest rank.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// webhookResult is one measured webhook ingest round.
type webhookResult struct {
	Senders          int     `json:"senders"`
	Messages         int     `json:"messages"`
	Notifications    int     `json:"notifications"`
	Seconds          float64 `json:"seconds"`
	CPUSeconds       float64 `json:"cpu_seconds"` // the process's: senders and handler
	NotificationsSec float64 `json:"notifications_per_sec"`
	P50MS            float64 `json:"ack_p50_ms"`
	P99MS            float64 `json:"ack_p99_ms"`
	Acked            int     `json:"acked"`
	PeakRSSMiB       float64 `json:"peak_rss_mib"`
	RSSGrowthMiB     float64 `json:"rss_growth_mib"`
}

// webhookBench posts rounds of messages of perMessage notifications
// about existing Account records (each changed in the fake org first, so
// that every notification carries a newer version) to the engine's
// webhook handler, once per sender count, and checks that every
// notification was acknowledged and applied.
func (e *benchEnv) webhookBench(ctx context.Context, senderCounts []int, messages, perMessage int) ([]webhookResult, error) {
	run, err := e.newRun(ctx, "sqlite", "rest")
	if err != nil {
		return nil, err
	}
	defer run.cleanup()
	h := run.h
	actionID, _ := sftest.To18("04k000000000001")
	h.sync.SetAction(actionID, outbound.Action{Object: benchObject, Fields: webhookFields})
	ids := h.ids(benchObject)
	if len(ids) == 0 {
		return nil, errors.New("webhook bench: the org has no records")
	}
	notif := &idSeq{prefix: "04l"}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	var out []webhookResult
	next := 0
	for _, senders := range senderCounts {
		msgs := make([]soapMessage, messages)
		h.tick()
		for i := range msgs {
			recs := make([]map[string]any, perMessage)
			for j := range recs {
				id := ids[next%len(ids)]
				next++
				if err := h.sf.Org.Update(benchObject, id, map[string]any{"Phone": fmt.Sprintf("+1 555 %07d", next)}); err != nil {
					return out, err
				}
				recs[j], _ = h.sf.Org.Get(benchObject, id)
			}
			msgs[i] = buildMessage(h.org, actionID, h.sf.URL, notif, benchObject, recs, webhookFields)
		}
		runtime.GC()
		resetPeakRSS()
		base := currentRSS()
		cpu0 := cpuTime()
		start := time.Now()
		res := sendAll(ctx, hc, h.web.URL+"/webhook", msgs, senders)
		took := time.Since(start)
		cpu := cpuTime() - cpu0
		r := webhookResult{Senders: senders, Messages: messages, Notifications: messages * perMessage,
			Seconds: took.Seconds(), CPUSeconds: cpu.Seconds(), PeakRSSMiB: mib(peakRSS())}
		r.RSSGrowthMiB = max(0, r.PeakRSSMiB-mib(base))
		var lats []time.Duration
		for i, x := range res {
			if x.err != nil || !x.acked {
				return out, fmt.Errorf("message %d with %d senders: status %d, %v", i, senders, x.status, x.err)
			}
			r.Acked += len(msgs[i].notifs)
			lats = append(lats, x.latency)
		}
		r.NotificationsSec = float64(r.Notifications) / took.Seconds()
		r.P50MS = ms(quantile(lats, 0.50))
		r.P99MS = ms(quantile(lats, 0.99))
		if err := checkApplied(ctx, h, msgs); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// checkApplied verifies that every notification of msgs has a receipt
// and that its record is stored at the version it carried (or newer).
func checkApplied(ctx context.Context, h *harness, msgs []soapMessage) error {
	var notifs []string
	for _, m := range msgs {
		notifs = append(notifs, m.notifs...)
	}
	for chunk := range slices.Chunk(notifs, 500) {
		got, err := h.sync.Applied(ctx, h.org, chunk)
		if err != nil {
			return fmt.Errorf("receipts: %w", err)
		}
		for _, id := range chunk {
			if !got[id] {
				return fmt.Errorf("notification %s acknowledged but not applied", id)
			}
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// hasAck reports whether a SOAP answer is an acknowledgement.
func hasAck(body string) bool { return strings.Contains(body, "<Ack>true</Ack>") }
