package outbound

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
)

// section54 is the acknowledgement exactly as SALESFORCE.md 5.4 prints it.
const section54 = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`

func TestWriteAck(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteAck(rec)
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if diff := cmp.Diff(section54, rec.Body.String()); diff != "" {
		t.Errorf("ack differs from section 5.4 (-want +got):\n%s", diff)
	}
	// Namespace-aware comparison with the recorded acks of other receivers.
	got := canonical(t, rec.Body.String())
	for _, f := range []string{"ack_aspnet_notificationResponse.xml", "ack_aspnetcore_expected.xml"} {
		b, err := os.ReadFile(filepath.Join(fixtures, f))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(canonical(t, string(b)), got); diff != "" {
			t.Errorf("ack differs from %s (-want +got):\n%s", f, diff)
		}
	}
}

// canonical renders an XML document as {namespace}name[text] lines,
// ignoring prefixes, declarations and whitespace between elements.
func canonical(t *testing.T, s string) []string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(strings.TrimPrefix(s, "\xEF\xBB\xBF")); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(e *etree.Element, depth int)
	walk = func(e *etree.Element, depth int) {
		ns, _ := lookupNamespace(e, e.Space)
		line := strings.Repeat(" ", depth) + "{" + ns + "}" + e.Tag
		if kids := childElements(e); len(kids) == 0 {
			line += "[" + strings.TrimSpace(e.Text()) + "]"
		}
		out = append(out, line)
		for _, c := range childElements(e) {
			walk(c, depth+1)
		}
	}
	walk(doc.Root(), 0)
	return out
}

func TestWriteFault(t *testing.T) {
	internal := errors.New("pq: connection to 10.0.0.5:5432 refused; password=hunter2")
	tests := []struct {
		status     int
		err        error
		code, text string
	}{
		{500, internal, "soapenv:Server", "outbound: temporary failure; the message will be retried"},
		{503, internal, "soapenv:Server", "outbound: temporary failure; the message will be retried"},
		{400, errors.Join(ErrBadSObject, internal), "soapenv:Client", ErrBadSObject.Error()},
		{400, internal, "soapenv:Client", "outbound: invalid outbound message"},
		{403, errors.Join(ErrUnknownOrg, internal), "soapenv:Client", "outbound: organization or action not accepted"},
		{413, ErrTooLarge, "soapenv:Client", "outbound: message too large"},
		{405, nil, "soapenv:Client", "outbound: method not allowed; use POST"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		WriteFault(rec, tt.status, tt.err)
		body := rec.Body.String()
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
			t.Errorf("%d: got status %d, type %q", tt.status, rec.Code, rec.Header().Get("Content-Type"))
		}
		want := []string{
			"{" + NamespaceSOAP + "}Envelope",
			" {" + NamespaceSOAP + "}Body",
			"  {" + NamespaceSOAP + "}Fault",
			"   {}faultcode[" + tt.code + "]",
			"   {}faultstring[" + tt.text + "]",
		}
		if diff := cmp.Diff(want, canonical(t, body)); diff != "" {
			t.Errorf("%d (-want +got):\n%s", tt.status, diff)
		}
		if strings.Contains(body, "10.0.0.5") || strings.Contains(body, "hunter2") {
			t.Errorf("fault reveals internal detail: %s", body)
		}
	}
	// The fault has the structure of the recorded ASP.NET fault.
	b, _ := os.ReadFile(filepath.Join(fixtures, "fault_aspnet_soap_fault.xml"))
	rec := httptest.NewRecorder()
	WriteFault(rec, 400, nil)
	wantTags, gotTags := tags(canonical(t, string(b))), tags(canonical(t, rec.Body.String()))
	if diff := cmp.Diff(wantTags[:5], gotTags); diff != "" {
		t.Errorf("structure differs from the recorded fault (-want +got):\n%s", diff)
	}
}

func tags(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _, _ = strings.Cut(l, "[")
	}
	return out
}
