package soql

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/rest"
)

// widePage builds a REST page of n records of a 60-field object with the
// value mix of a real Account: ids, text, picklists, numbers, dates,
// datetimes, booleans, nulls and a compound address.
func widePage(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"totalSize":%d,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gxx0000000001AAA-2000","records":[`, n*10)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		id := fmt.Sprintf("001%012dAAA", i)
		fmt.Fprintf(&b, `{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/%s"},"Id":"%s"`, id, id)
		for f := 1; f < 60; f++ {
			switch f % 10 {
			case 0:
				fmt.Fprintf(&b, `,"Text%d__c":"Some text value number %d with words"`, f, i)
			case 1:
				fmt.Fprintf(&b, `,"Amount%d__c":%d.%02d`, f, i*37, f)
			case 2:
				fmt.Fprintf(&b, `,"Date%d__c":"2024-03-%02d"`, f, 1+i%28)
			case 3:
				fmt.Fprintf(&b, `,"Stamp%d__c":"2024-03-05T12:34:56.000+0000"`, f)
			case 4:
				fmt.Fprintf(&b, `,"Flag%d__c":%v`, f, i%2 == 0)
			case 5:
				fmt.Fprintf(&b, `,"Empty%d__c":null`, f)
			case 6:
				fmt.Fprintf(&b, `,"Owner%dId":"005000000000001AAA"`, f)
			case 7:
				fmt.Fprintf(&b, `,"Pick%d__c":"Customer - Direct"`, f)
			case 8:
				fmt.Fprintf(&b, `,"Count%d__c":%d`, f, i)
			case 9:
				if f == 9 {
					fmt.Fprintf(&b, `,"BillingAddress":{"city":"Anchorage","country":"US","latitude":61.217061,"longitude":-149.894342,"postalCode":"99501","state":"AK","street":"621 West 6th Avenue"}`)
				} else {
					fmt.Fprintf(&b, `,"Desc%d__c":"Line one\r\nLine \"two\""`, f)
				}
			}
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes()
}

func BenchmarkDecodePage(b *testing.B) {
	const n = 2000
	body := widePage(n)
	if p, err := DecodePage(body); err != nil || len(p.Records) != n || p.Records[0].Len() != 60 {
		b.Fatalf("bad page: %v", err)
	}
	b.Run("sfsync", func(b *testing.B) {
		var d pageDecoder
		var p Page
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if err := d.decode(body, &p); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, n, cpu)
	})
	b.Run("encoding-json-maps", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			var p struct {
				Records []map[string]any `json:"records"`
			}
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			if err := d.Decode(&p); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, n, cpu)
	})
}

// wideCSV builds a Bulk results body of n rows of 60 columns.
func wideCSV(n int) []byte {
	var b bytes.Buffer
	cols := make([]string, 60)
	cols[0] = `"Id"`
	for f := 1; f < 60; f++ {
		cols[f] = fmt.Sprintf(`"Field%d__c"`, f)
	}
	b.WriteString(strings.Join(cols, ",") + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `"001%012dAAA"`, i)
		for f := 1; f < 60; f++ {
			switch f % 6 {
			case 0:
				fmt.Fprintf(&b, `,"Some text %d"`, i)
			case 1:
				fmt.Fprintf(&b, `,"%d.5"`, i)
			case 2:
				b.WriteString(`,"2024-03-05T12:34:56.000Z"`)
			case 3:
				b.WriteString(`,""`)
			case 4:
				b.WriteString(`,"true"`)
			case 5:
				b.WriteString(`,"He said ""hi""` + "\n" + `twice"`)
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func BenchmarkDecodeCSV(b *testing.B) {
	const n = 10000
	body := wideCSV(n)
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(body))
			got := 0
			for {
				if _, err := r.Read(); err != nil {
					break
				}
				got++
			}
			if got != n+1 {
				b.Fatalf("got %d rows", got)
			}
		}
		reportRate(b, n, cpu)
	})
	b.Run("sfsync", func(b *testing.B) { benchCSV(b, body, n) })
}

func benchCSV(b *testing.B, body []byte, n int) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		cr := newCSVReader(bytes.NewReader(body), ',', "Account")
		if err := cr.readHeader(); err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			_, err := cr.next()
			if err != nil {
				break
			}
			got++
		}
		if got != n {
			b.Fatalf("got %d rows", got)
		}
	}
	reportRate(b, n, cpu)
}

// reportRate reports records/s of wall time and, where the platform
// measures it, records per CPU second since cpu0 (the process's CPU time,
// garbage collection included): on a machine shared with other work the
// second is the steadier measure of what one core achieves.
func reportRate(b *testing.B, perOp int, cpu0 time.Duration) {
	b.Helper()
	recs := float64(perOp * b.N)
	b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
	if d := cpuTime() - cpu0; cpu0 > 0 && d > 0 {
		b.ReportMetric(recs/d.Seconds(), "records/cpu-s")
	}
}

var big = flag.Bool("sfsync.big", false, "run the 1,000,000-record sizes")

// pageServer serves total records of the 60-field shape in pages of 2000,
// generated on the fly, so the server holds no data set.
func pageServer(total int) *httptest.Server {
	const size = 2000
	page := widePage(size)
	recs := page[bytes.Index(page, []byte(`"records":`)):]
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := 0
		if s, ok := strings.CutPrefix(r.URL.Path, "/services/data/v62.0/query/01gx-"); ok {
			k, _ = strconv.Atoi(s)
		}
		left := total - k*size
		if left <= size {
			// The last page: only the records that are left.
			fmt.Fprintf(w, `{"totalSize":%d,"done":true,"records":[`, total)
			p := widePage(left)
			w.Write(p[bytes.Index(p, []byte(`"records":[`))+len(`"records":[`):])
			return
		}
		fmt.Fprintf(w, `{"totalSize":%d,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gx-%d",`, total, k+1)
		w.Write(recs)
	}))
}

// BenchmarkQueryHeap streams whole result sets and reports the largest
// live heap (after a collection, every 5,000 records) seen while
// ranging: it stays flat whatever the record count, since one page is held
// at a time. The records/s includes those collections and the server.
func BenchmarkQueryHeap(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if *big {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			srv := pageServer(n)
			defer srv.Close()
			c := &Client{REST: &rest.Client{InstanceURL: srv.URL}}
			b.ReportAllocs()
			var peak uint64
			var ms runtime.MemStats
			for b.Loop() {
				runtime.GC()
				got := 0
				for _, err := range c.Query(context.Background(), "SELECT Id FROM Account").Records() {
					if err != nil {
						b.Fatal(err)
					}
					got++
					if got%5_000 == 0 {
						// The live heap: collect, then measure.
						runtime.GC()
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapAlloc)
					}
				}
				if got != n {
					b.Fatalf("got %d", got)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
