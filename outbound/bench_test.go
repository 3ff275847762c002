package outbound

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// bigMessage builds a realistic message of n notifications with fields
// fields each (Id, dates, booleans, numbers, ids, names and text with
// entities), laid out as Salesforce does (1-space indentation).
func bigMessage(n, fields int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00De0000000pmu1EAA</OrganizationId>
   <ActionId>04ke0000000Cb2DAAS</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://cs15.salesforce.com/services/Soap/c/61.0/00De0000000pmu1</EnterpriseUrl>
   <PartnerUrl>https://cs15.salesforce.com/services/Soap/u/61.0/00De0000000pmu1</PartnerUrl>
`)
	values := []string{
		"2026-11-30T09:15:02.000Z", "false", "0018c00002XyZabAAF", "Acme Corporation",
		"1499.95", "Line one&lt;br&gt;Line two &amp; more text for a description field", "Open - Not Contacted",
		"2026-12-31",
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "   <Notification>\n    <Id>04le0000004l%06d</Id>\n", i)
		b.WriteString(`    <sObject xsi:type="sf:Invoice__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` + "\n")
		fmt.Fprintf(&b, "     <sf:Id>a29e0000000K%06d</sf:Id>\n", i)
		for f := 1; f < fields; f++ {
			fmt.Fprintf(&b, "     <sf:Field_%02d__c>%s</sf:Field_%02d__c>\n", f, values[(i+f)%len(values)], f)
		}
		b.WriteString("    </sObject>\n   </Notification>\n")
	}
	b.WriteString("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return []byte(b.String())
}

// BenchmarkDecode decodes a 100-notification message of 20 fields each.
// notifications/s is wall time; notifications/cpu-s is this process's CPU
// time, which a shared machine does not distort.
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, bigMessage(100, 20), func(r *bytes.Reader) (*Message, error) { return Decode(r) })
}

// BenchmarkDecodeTree is the etree path alone (what Decode falls back to
// for unusual layouts).
func BenchmarkDecodeTree(b *testing.B) {
	benchDecode(b, bigMessage(100, 20), func(r *bytes.Reader) (*Message, error) {
		buf := make([]byte, r.Len())
		_, _ = r.Read(buf)
		return Decoder{}.decodeTree(buf)
	})
}

func benchDecode(b *testing.B, msg []byte, decode func(*bytes.Reader) (*Message, error)) {
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	cpu0 := cpuTime()
	for b.Loop() {
		m, err := decode(bytes.NewReader(msg))
		if err != nil || len(m.Notifications) != 100 {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "notifications/s")
	if cpu > 0 {
		b.ReportMetric(float64(100*b.N)/cpu.Seconds(), "notifications/cpu-s")
	}
}

// BenchmarkHandler serves the same message through Handler.ServeHTTP with
// Verify, Applied and Apply doing nothing, and reports the 99th
// percentile of the time per request (wall and, on Linux, the serving
// thread's CPU time).
func BenchmarkHandler(b *testing.B) {
	msg := bigMessage(100, 20)
	h := &Handler{
		Verify:  func(context.Context, *Message) error { return nil },
		Applied: func(context.Context, string, []string) (map[string]bool, error) { return nil, nil },
		Apply:   func(context.Context, *Message) error { return nil },
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	walls := make([]time.Duration, 0, 1024)
	cpus := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(msg))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		rec := httptest.NewRecorder()
		c0, t0 := threadCPUTime(), time.Now()
		h.ServeHTTP(rec, req)
		walls = append(walls, time.Since(t0))
		cpus = append(cpus, threadCPUTime()-c0)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(percentile(walls, 99).Seconds()*1e3, "p99-ms")
	if p := percentile(cpus, 99); p > 0 {
		b.ReportMetric(percentile(cpus, 50).Seconds()*1e3, "p50-cpu-ms")
		b.ReportMetric(p.Seconds()*1e3, "p99-cpu-ms")
	}
}

func percentile(d []time.Duration, pct int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)*pct)/100]
}
