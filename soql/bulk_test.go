package soql

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

const jobsURL = instance + "/services/data/v62.0/jobs/query"

func jobJSON(state string, processed int, extra string) string {
	return `{"id":"750R0000000zlh9IAA","operation":"query","object":"Account","createdById":"005R0000000GiwjIAC",` +
		`"createdDate":"2018-12-10T17:50:19.000+0000","systemModstamp":"2018-12-10T17:51:27.000+0000","state":"` + state +
		`","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":62.0,"jobType":"V2Query","lineEnding":"LF",` +
		`"columnDelimiter":"COMMA","numberRecordsProcessed":` + itoa(processed) + `,"retries":0,"totalProcessingTime":334` + extra + `}`
}

func csvResponder(body, locator string, records int) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(200, body)
		resp.Header.Set("Content-Type", "text/csv")
		resp.Header.Set("Sforce-Locator", locator)
		resp.Header.Set("Sforce-NumberOfRecords", itoa(records))
		return resp, nil
	}
}

func newBulkMock(t *testing.T) (*Client, *httpmock.MockTransport) {
	c, mt := newMock(t)
	c.Bulk = BulkOptions{PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond, MaxRecords: 2}
	return c, mt
}

func TestBulkExtract(t *testing.T) {
	c, mt := newBulkMock(t)
	mt.RegisterResponder("POST", jobsURL, func(r *http.Request) (*http.Response, error) {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		want := map[string]string{"operation": "queryAll", "query": "SELECT Id,Name,Description FROM Account ORDER BY Id",
			"contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
		if diff := cmp.Diff(want, in); diff != "" {
			t.Errorf("create body (-want +got):\n%s", diff)
		}
		return httpmock.NewStringResponse(200, jobJSON("UploadComplete", 0, "")), nil
	})
	var polls atomic.Int32
	mt.RegisterResponder("GET", jobsURL+"/750R0000000zlh9IAA", func(r *http.Request) (*http.Response, error) {
		if polls.Add(1) < 3 {
			return httpmock.NewStringResponse(200, jobJSON("InProgress", 0, "")), nil
		}
		return httpmock.NewStringResponse(200, jobJSON("JobComplete", 3, "")), nil
	})
	mt.RegisterResponderWithQuery("GET", jobsURL+"/750R0000000zlh9IAA/results", "maxRecords=2", func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Accept") != "text/csv" {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		return csvResponder("\"Id\",\"Name\",\"Description\"\n\"001A\",\"Acme, \"\"Inc\"\"\",\"line1\nline2\"\n\"001B\",\"\",\"x\"\n", "MjAwMDA", 2)(r)
	})
	mt.RegisterResponderWithQuery("GET", jobsURL+"/750R0000000zlh9IAA/results", "locator=MjAwMDA&maxRecords=2",
		csvResponder("\"Id\",\"Name\",\"Description\"\r\n\"001C\",\"Globex\",\r\n", "null", 1))

	recs, err := Collect(c.BulkExtract(context.Background(), Extract{Object: "Account", Fields: []string{"Name", "Description"}, All: true}))
	if err != nil {
		t.Fatal(err)
	}
	var got [][]Field
	for _, r := range recs {
		if r.Type() != "Account" {
			t.Errorf("type %q", r.Type())
		}
		got = append(got, r.Fields())
	}
	want := [][]Field{
		{{"Id", "001A"}, {"Name", `Acme, "Inc"`}, {"Description", "line1\nline2"}},
		{{"Id", "001B"}, {"Name", nil}, {"Description", "x"}},
		{{"Id", "001C"}, {"Name", "Globex"}, {"Description", nil}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !json.Valid(recs[0].Raw()) || !strings.Contains(string(recs[0].Raw()), `"Name":"Acme, \"Inc\""`) {
		t.Errorf("Raw = %s", recs[0].Raw())
	}
	info := mt.GetCallCountInfo()
	if info["GET "+jobsURL+"/750R0000000zlh9IAA"] != 3 {
		t.Errorf("calls: %v", info)
	}
}

func TestBulkErrors(t *testing.T) {
	tests := []struct {
		name    string
		create  httpmock.Responder
		status  string
		results httpmock.Responder
		want    error
		message string
	}{
		{name: "failed job", status: jobJSON("Failed", 0, `,"errorMessage":"Retried more than 15 times"`),
			want: ErrBulkJobFailed, message: "Retried more than 15 times"},
		{name: "aborted", status: jobJSON("Aborted", 0, ""), want: ErrBulkJobAborted},
		{name: "compound refused", create: errorResponder(400, "API_ERROR", "Selecting compound data not supported in Bulk Query"),
			want: ErrBulkUnsupported},
		{name: "entity refused", create: errorResponder(400, "INVALIDENTITY", "Entity type AccountFeed is not supported"),
			want: ErrBulkUnsupported},
		{name: "fewer rows than processed", status: jobJSON("JobComplete", 5, ""),
			results: csvResponder("\"Id\"\n\"001A\"\n", "null", 1), want: ErrBulkIncomplete},
		{name: "set count mismatch", status: jobJSON("JobComplete", 1, ""),
			results: csvResponder("\"Id\"\n\"001A\"\n", "null", 2), want: ErrBulkIncomplete},
		{name: "bad csv", status: jobJSON("JobComplete", 1, ""),
			results: csvResponder("\"Id\",\"Name\"\n\"001A\"\n", "null", 1), want: ErrDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newBulkMock(t)
			create := tt.create
			if create == nil {
				create = httpmock.NewStringResponder(200, jobJSON("UploadComplete", 0, ""))
			}
			mt.RegisterResponder("POST", jobsURL, create)
			mt.RegisterResponder("GET", jobsURL+"/750R0000000zlh9IAA", httpmock.NewStringResponder(200, tt.status))
			if tt.results != nil {
				mt.RegisterResponder("GET", jobsURL+"/750R0000000zlh9IAA/results", tt.results)
			}
			_, err := Collect(c.BulkExtract(context.Background(), Extract{Object: "Account"}))
			if !errors.Is(err, tt.want) || !strings.Contains(fmtErr(err), tt.message) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestBulkAbortsOnCancel(t *testing.T) {
	c, mt := newBulkMock(t)
	mt.RegisterResponder("POST", jobsURL, httpmock.NewStringResponder(200, jobJSON("UploadComplete", 0, "")))
	ctx, cancel := context.WithCancel(context.Background())
	mt.RegisterResponder("GET", jobsURL+"/750R0000000zlh9IAA", func(r *http.Request) (*http.Response, error) {
		cancel()
		return httpmock.NewStringResponse(200, jobJSON("InProgress", 0, "")), nil
	})
	aborted := make(chan string, 1)
	mt.RegisterResponder("PATCH", jobsURL+"/750R0000000zlh9IAA", func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		aborted <- string(b)
		return httpmock.NewStringResponse(200, jobJSON("Aborted", 0, "")), nil
	})
	_, err := Collect(c.BulkExtract(ctx, Extract{Object: "Account"}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	select {
	case body := <-aborted:
		if body != `{"state":"Aborted"}` {
			t.Errorf("abort body %s", body)
		}
	default:
		t.Error("job not aborted")
	}
}

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name  string
		delim byte
		body  string
		want  [][]any
	}{
		{"quoted", ',', "\"Id\",\"A\"\n\"1\",\"x\"\n", [][]any{{"1", "x"}}},
		{"unquoted and empty", ',', "Id,A,B\n1,,z\n2,y,\n", [][]any{{"1", nil, "z"}, {"2", "y", nil}}},
		{"crlf and bom", ',', "\ufeffId,A\r\n1,\"a\r\nb\"\r\n", [][]any{{"1", "a\r\nb"}}},
		{"no final newline", ',', "Id\n1", [][]any{{"1"}}},
		{"pipe", '|', "Id|A\n1|\"x|y\"\n", [][]any{{"1", "x|y"}}},
		{"doubled quotes", ',', "Id,A\n1,\"\"\"\"\n", [][]any{{"1", `"`}}},
		{"blank lines skipped", ',', "Id\n\n1\n\n", [][]any{{"1"}}},
		{"header only", ',', "Id,A\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllCSV(tt.body, tt.delim)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for name, body := range map[string]string{
		"unterminated": "Id\n\"1\n",
		"junk after":   "Id,A\n\"1\"x,2\n",
		"quote inside": "Id\n1\"2\n",
		"too many":     "Id\n1,2\n",
		"empty header": "Id,,A\n1,2,3\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := readAllCSV(body, ','); !errors.Is(err, ErrDecode) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func readAllCSV(body string, delim byte) ([][]any, error) {
	cr := newCSVReader(strings.NewReader(body), delim, "X")
	if err := cr.readHeader(); err != nil {
		return nil, err
	}
	var out [][]any
	for {
		r, err := cr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var row []any
		for _, f := range r.Fields() {
			row = append(row, f.Value)
		}
		out = append(out, row)
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("\"Id\",\"Name\"\n\"001\",\"a\"\"b\"\n")
	f.Add("Id,A\r\n1,\"x\ny\"\r\n")
	f.Add("Id\n\"\n")
	f.Fuzz(func(t *testing.T, body string) {
		cr := newCSVReader(strings.NewReader(body), ',', "X")
		if cr.readHeader() != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			r, err := cr.next()
			if err != nil {
				return
			}
			if r.Len() != len(cr.header) {
				t.Fatalf("row of %d values, header %d", r.Len(), len(cr.header))
			}
			for _, f := range r.Fields() {
				if s, ok := f.Value.(string); ok && s == "" {
					t.Fatal("empty string instead of nil")
				}
			}
		}
	})
}

func TestBulkPollBackoff(t *testing.T) {
	var got []time.Duration
	for w := DefaultPollInterval; len(got) < 10; w = nextPoll(w, DefaultMaxPollInterval) {
		got = append(got, w)
	}
	want := []time.Duration{500 * time.Millisecond, 750 * time.Millisecond, 1125 * time.Millisecond,
		1687500 * time.Microsecond, 2531250 * time.Microsecond, 3796875 * time.Microsecond,
		5695312500, 8542968750, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("poll waits (-want +got):\n%s", diff)
	}
}
