package sftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkQueryPages serves REST query pages of Account (60 fields,
// compounds included) over real HTTP and reports records/s. The client
// only reads the bytes, so the figure is the fake's own cost. Each
// record's stored values were rendered to JSON when it was written, so
// a first extract and a re-extract cost the same.
func BenchmarkQueryPages(b *testing.B) {
	const n = 20_000
	s := NewServer(Options{RecordsPer: map[string]int{"User": 20, "Account": n}})
	defer s.Close()
	tok, _ := s.NewSession()
	var fields []string
	s.Org.mu.RLock()
	for _, f := range s.Org.byName["account"].Fields {
		fields = append(fields, f.Name)
	}
	s.Org.mu.RUnlock()
	if len(fields) != 60 {
		b.Fatalf("Account has %d fields, want 60", len(fields))
	}
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM Account"
	first := s.URL + "/services/data/v62.0/query?q=" + url.QueryEscape(soql)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, ReadBufferSize: 1 << 20}}
	sink := make([]byte, 1<<20)
	fetch := func(u string) (next string, bytes int64) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			body, _ := io.ReadAll(res.Body)
			b.Fatalf("%d %s", res.StatusCode, body)
		}
		// nextRecordsUrl comes before the records: read the head, discard the rest.
		head := make([]byte, 300)
		k, _ := io.ReadFull(res.Body, head)
		head = head[:k]
		if i := strings.Index(string(head), `"nextRecordsUrl":"`); i >= 0 {
			rest := string(head[i+len(`"nextRecordsUrl":"`):])
			next = s.URL + rest[:strings.IndexByte(rest, '"')]
		}
		m := int64(0)
		for {
			c, err := res.Body.Read(sink)
			m += int64(c)
			if err != nil {
				break
			}
		}
		return next, int64(k) + m
	}
	// Check the pages are valid JSON once.
	next, _ := fetch(first)
	if next == "" {
		b.Fatal("no nextRecordsUrl")
	}
	var probe map[string]any
	res := do(b, s, tok, "GET", strings.TrimPrefix(next, s.URL), nil, nil)
	if err := json.Unmarshal(res.body, &probe); err != nil {
		b.Fatal(err)
	}
	// keyset pages by Id instead of locators, as extractors that split
	// a table do: WHERE Id > last ORDER BY Id LIMIT 2000.
	ids := s.Org.Records("Account", false)
	keyset := func(after string) string {
		q := soql
		if after != "" {
			q += " WHERE Id > '" + after + "'"
		}
		return s.URL + "/services/data/v62.0/query?q=" + url.QueryEscape(q+" ORDER BY Id LIMIT 2000")
	}
	for _, mode := range []string{"locator", "keyset"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			records, total := 0, int64(0)
			for b.Loop() {
				if mode == "locator" {
					u := first
					for u != "" {
						var sz int64
						u, sz = fetch(u)
						total += sz
					}
				} else {
					for k := 0; k < n; k += 2000 {
						after := ""
						if k > 0 {
							after = ids[k-1]["Id"].(string)
						}
						next, sz := fetch(keyset(after))
						if next != "" {
							b.Fatal("keyset page has a locator")
						}
						total += sz
					}
				}
				records += n
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			// On a shared machine wall time mostly measures the queue for
			// a CPU; records per CPU-second (server and client together)
			// is the cost.
			b.ReportMetric(float64(records)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
			b.ReportMetric(float64(total)/float64(records), "bytes/record")
		})
	}
}

// BenchmarkGenerate measures writing records (Create with its JSON
// rendering, see record.seal): the cost a query page no longer pays.
func BenchmarkGenerate(b *testing.B) {
	s := NewServer(Options{RecordsPer: map[string]int{"User": 20}})
	defer s.Close()
	b.ReportAllocs()
	const n = 1000
	for b.Loop() {
		if _, err := s.Org.Generate("Account", n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRenderPage measures the JSON writer alone: one 2,000-record
// page of Account with every field.
func BenchmarkRenderPage(b *testing.B) {
	s := NewServer(Options{RecordsPer: map[string]int{"User": 20, "Account": 2000}})
	defer s.Close()
	o := s.Org
	var fields []string
	for _, f := range o.byName["account"].Fields {
		fields = append(fields, f.Name)
	}
	cq, err := o.compile("SELECT " + strings.Join(fields, ", ") + " FROM Account")
	if err != nil {
		b.Fatal(err)
	}
	rows := o.execute(cq, false)
	jw := &jsonWriter{ec: &evalCtx{o: o, now: o.now}, version: "62.0"}
	var buf []byte
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		buf = buf[:0]
		for _, r := range rows {
			buf = jw.record(buf, cq.root, r, cq.sel)
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(rows)*b.N)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
