package outbound

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func seedFiles(f *testing.F, patterns ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, p := range patterns {
		paths, _ := filepath.Glob(p)
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no seeds in %v", patterns)
	}
	return out
}

// checkMessage asserts what Decode and DecodeJSON promise of a message
// they return.
func checkMessage(t *testing.T, m *Message) {
	t.Helper()
	if m.OrganizationID == "" || m.ActionID == "" || len(m.Notifications) > MaxNotifications {
		t.Fatalf("invalid message returned: %+v", m)
	}
	for _, n := range m.Notifications {
		if n.ID == "" || !validName(n.SObject.Type) || n.SObject.ID() == "" {
			t.Fatalf("invalid notification returned: %+v", n)
		}
	}
	b, err := m.JSON(true)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("JSON form does not decode: %v\n%s", err, b)
	}
	if diff := cmp.Diff(m, back); diff != "" {
		t.Fatalf("JSON round trip (-decoded +json):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	for _, b := range seedFiles(f, filepath.Join(fixtures, "om_*.xml"), "testdata/messages/*.xml") {
		f.Add(b)
	}
	f.Add([]byte(msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Tier__c xsi:nil="true"/><sf:Name>&amp;<![CDATA[x]]></sf:Name>`))))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`))
	d := Decoder{MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := d.Decode(bytes.NewReader(b))
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		checkMessage(t, m)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, b := range seedFiles(f, filepath.Join(fixtures, "om_*.xml"), "testdata/messages/*.xml") {
		m, err := Decode(bytes.NewReader(b))
		if err != nil {
			f.Fatal(err)
		}
		js, _ := m.JSON(true)
		f.Add(js)
	}
	f.Add([]byte(`{"organizationId":"0","actionId":"0","notifications":[{"id":"1","sObject":{"type":"A","fields":{"Id":"1","N":1.5e3,"B":false,"X":null}}}]}`))
	d := Decoder{MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := d.DecodeJSON(bytes.NewReader(b))
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		checkMessage(t, m)
	})
}

func FuzzParseWSDL(f *testing.F) {
	for _, b := range seedFiles(f, filepath.Join(fixtures, "wsdl_*.wsdl")) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseWSDL(bytes.NewReader(b))
		if err != nil {
			return
		}
		if !validName(a.Object) || len(a.Fields) == 0 || a.Fields[0] != "Id" {
			t.Fatalf("invalid action: %+v", a)
		}
		seen := map[string]bool{}
		for _, f := range a.Fields {
			if !validName(f) || seen[f] {
				t.Fatalf("bad field list %v", a.Fields)
			}
			seen[f] = true
		}
	})
}

// TestDecodeHostileMemory checks that hostile documents near the size cap
// are refused without building large trees: the memory allocated stays a
// small multiple of the input.
func TestDecodeHostileMemory(t *testing.T) {
	const size = 4 << 20
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`
	tests := map[string]string{
		"deep":           strings.Repeat("<a>", size/3),
		"wide":           "<a>" + strings.Repeat("<b/>", size/4) + "</a>",
		"attributes":     "<a " + strings.Repeat(`b="c" `, size/6) + "/>",
		"billion laughs": laughs,
		"many fields":    msg(notif("04l1", `<sf:Id>001A</sf:Id>`+strings.Repeat(`<sf:F/>`, size/7))),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Decode(strings.NewReader(in))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("hostile input decoded")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*len(in))+(1<<20) {
				t.Errorf("allocated %d bytes for %d bytes of input (%v)", alloc, len(in), err)
			}
		})
	}
}

// FuzzDecodeFastPath checks that the etree path stays the reference:
// whatever the fast path accepts, the reference path (prescan, then the
// etree document) accepts too, with the same result. The fast path runs
// before prescan in Decode, so its input is not filtered here: a document
// that prescan would refuse (a DOCTYPE, too many elements) must make the
// fast path give up as well. Small element limits are fuzzed too, since the
// fast path enforces that limit itself.
func FuzzDecodeFastPath(f *testing.F) {
	for _, b := range seedFiles(f, filepath.Join(fixtures, "om_*.xml"), "testdata/messages/*.xml") {
		f.Add(b, uint16(0))
	}
	f.Add([]byte(msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Tier__c xsi:nil="true"/><sf:Name>a&amp;b&lt;&#13;</sf:Name>`))), uint16(0))
	f.Add([]byte(msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name>x</sf:Name>`))), uint16(7))
	f.Add([]byte(`<!DOCTYPE e>`+msg(notif("04l1", `<sf:Id>001A</sf:Id>`))), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, limit uint16) {
		maxElements := DefaultMaxElements
		if limit > 0 {
			maxElements = int(limit)
		}
		b = trimBOM(b)
		fast, ok := fastDecode(b, maxElements)
		if !ok {
			return
		}
		if err := prescan(b, maxElements); err != nil {
			t.Fatalf("fast path accepted what prescan refuses: %v", err)
		}
		slow, err := Decoder{}.decodeTree(b)
		if err != nil {
			t.Fatalf("fast path accepted what etree refuses: %v", err)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("fast path differs (-etree +fast):\n%s", diff)
		}
	})
}

// TestFastPathCoversSalesforce checks that the recorded deliveries and
// this package's realistic messages take the fast path and that it agrees
// with the etree path on them.
func TestFastPathCoversSalesforce(t *testing.T) {
	for _, path := range goldenInputs(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b = trimBOM(b)
		slow, err := Decoder{}.decodeTree(b)
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := fastDecode(b, DefaultMaxElements)
		special := strings.Contains(path, "invoice_prefixes") // CDATA, comments, a Header
		if !ok {
			if !special {
				t.Errorf("%s: fast path gave up", path)
			}
			continue
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("%s (-etree +fast):\n%s", path, diff)
		}
	}
}

// TestDecodeRulesSlowPath runs the rule tables through the etree path
// alone, so both paths are held to them.
func TestDecodeRulesSlowPath(t *testing.T) {
	old := disableFastPath
	disableFastPath = true
	defer func() { disableFastPath = old }()
	t.Run("rules", TestDecodeRules)
	t.Run("errors", TestDecodeErrors)
	t.Run("golden", TestDecodeGolden)
}

// TestFastPathVariants rewrites the recorded deliveries in ways the fast
// path still accepts and checks that it agrees with the etree path.
func TestFastPathVariants(t *testing.T) {
	variants := map[string]func(string) string{
		"crlf":          func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
		"tabs":          func(s string) string { return strings.ReplaceAll(s, "\n ", "\n\t") },
		"no whitespace": func(s string) string { return strings.NewReplacer("\n", "", " <", "<").Replace(s) },
		"prefixes": func(s string) string {
			return strings.NewReplacer("sf:", "x1:", "xmlns:sf=", "xmlns:x1=", "soapenv:", "S:", "xmlns:soapenv=", "xmlns:S=").Replace(s)
		},
		"entities": func(s string) string {
			return strings.ReplaceAll(s, "<sf:Name>", "<sf:Name>&lt;&amp;&gt;&quot;&apos;\r\n")
		},
		"single quotes": func(s string) string {
			return strings.ReplaceAll(s, `"urn:sobject.enterprise.soap.sforce.com"`, `'urn:sobject.enterprise.soap.sforce.com'`)
		},
		"nil and empty": func(s string) string {
			return strings.NewReplacer("<sf:Name>", `<sf:Name xsi:nil="true">`, "<sf:IsDeleted>false</sf:IsDeleted>", "<sf:IsDeleted/>").Replace(s)
		},
		"rebound default namespace": func(s string) string {
			return strings.ReplaceAll(s, `<sObject xsi:type="sf:`, `<sObject xmlns:d="http://soap.sforce.com/2005/09/outbound" xsi:type="sf:`)
		},
		"unicode": func(s string) string { return strings.ReplaceAll(s, "<sf:Name>", "<sf:Name>Zürich ☺ 𝄞 ") },
	}
	accepted, total := 0, 0
	for _, path := range goldenInputs(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, edit := range variants {
			total++
			b := []byte(edit(string(trimBOM(raw))))
			slow, err := Decoder{}.decodeTree(b)
			fast, ok := fastDecode(b, DefaultMaxElements)
			if !ok {
				continue // the etree path decides
			}
			accepted++
			if err != nil {
				t.Errorf("%s %s: fast path accepted what etree refuses: %v", filepath.Base(path), name, err)
				continue
			}
			if diff := cmp.Diff(slow, fast); diff != "" {
				t.Errorf("%s %s (-etree +fast):\n%s", filepath.Base(path), name, diff)
			}
		}
	}
	t.Logf("fast path took %d of %d variants", accepted, total)
	if accepted < total*3/4 {
		t.Errorf("fast path took only %d of %d variants", accepted, total)
	}
}
