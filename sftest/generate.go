package sftest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Values the generator draws from: realistic, and nasty on purpose
// (quotes, backslashes, newlines, non-ASCII, emoji, SOQL and CSV
// metacharacters), so that every layer of the client meets them.
var (
	genCompanies = []string{"Acme Corporation", "O'Reilly & Sons", "Zoë's Café", "株式会社サンプル",
		`Back\slash Ltd`, `Quote "Double" Inc`, "Line\nBreak LLC", "🚀 Rocket GmbH", "Ünïcödé AG",
		"Smith, Jones; and Partners", "100% Percent_Corp", "' OR Name != '", "Ελληνική Εταιρεία",
		"Тест ООО", "شركة الاختبار", "Trailing Backslash \\", "Tab\tSeparated Co", "Global Media",
		"United Oil & Gas", "Burlington Textiles", "Edge Communications", "Pyramid Construction"}
	genFirst = []string{"Anne-Marie", "José", "Zoë", "Björn", "Siobhán", "李", "Мария", "O'Neil",
		"Jean \"JJ\"", "Ava", "Noah", "Liam", "Emma", "Ｆｕｌｌ", "François", "Ørjan"}
	genLast = []string{"O'Brien", "Müller", "García", "Smith", "Nguyễn", "王", "Иванова", `Back\slash`,
		"de la Cruz", "Johnson", "Żółć", "Ng", "Williams", "Brown", "D'Angelo", "Ångström"}
	genCities = []string{"San Francisco", "München", "São Paulo", "Zürich", "東京", "Québec", "New York",
		"Reykjavík", "Kraków", "Anchorage"}
	genWords = []string{"alpha", "beta", "gamma", "delta", "ünïcode", "naïve", "日本語", "emoji 🎉",
		"quote's", `dq"x`, `back\slash`, "percent%", "under_score", "comma,semi;colon", "pipe|caret^",
		"tab\there", "cr\rlf\nmix", "<b>html</b>", "&amp;", "line\r\nbreak"}
)

// Generate creates n records of object with deterministic, realistic
// values (the org's seed and the number of records generated so far fix
// them) and returns their IDs. References point at existing records of
// the target object; nillable fields are sometimes null; over enough
// records every picklist value appears.
func (o *Org) Generate(object string, n int) ([]string, error) {
	o.mu.RLock()
	od, err := o.object(object)
	o.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	ids := make([]string, 0, n)
	for range n {
		o.mu.Lock()
		i := len(od.records)
		rng := rand.New(rand.NewPCG(uint64(o.seed), od.seq+uint64(i)*7))
		fields := o.genRecord(od, i, rng)
		o.mu.Unlock()
		id, err := o.Create(od.Name, fields)
		if err != nil {
			return ids, fmt.Errorf("generate: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// genRecord draws the field values of the i-th record of od. The caller
// holds the lock.
func (o *Org) genRecord(od *objectDef, i int, rng *rand.Rand) map[string]any {
	m := map[string]any{}
	for fi, f := range od.Fields {
		if f.compute != nil || f.AutoNumber || readOnly[strings.ToLower(f.Name)] {
			continue
		}
		// Picklists cycle through all values first so each one appears.
		cycling := len(f.Picklist) > 0 && i < len(f.Picklist)
		if f.Nillable && !f.Required && !cycling && rng.IntN(100) < 12 {
			continue
		}
		if v := o.genValue(od, f, i, fi, rng); v != nil {
			m[f.Name] = v
		}
	}
	return m
}

func (o *Org) genValue(od *objectDef, f *fieldDef, i, fi int, rng *rand.Rand) any {
	pickOf := func(list []string) string { return list[rng.IntN(len(list))] }
	switch f.Name {
	case "Username":
		return fmt.Sprintf("user%d.%d@sftest.example", i, o.seed)
	case "Alias":
		return fmt.Sprintf("u%d", i%10_000_000)
	case "FirstName":
		return pickOf(genFirst)
	case "LastName":
		return pickOf(genLast)
	case "Name", "Company", "SuppliedName":
		if od.Name == "Account" || f.Name == "Company" || od.Name == "Opportunity" {
			return fitRunes(fmt.Sprintf("%s #%d", pickOf(genCompanies), i), f.Length)
		}
		return fitRunes(fmt.Sprintf("%s-%06d", od.Label, i), f.Length)
	}
	if f.CompoundFieldName != "" {
		switch {
		case strings.HasSuffix(f.Name, "Street"):
			return fitRunes(fmt.Sprintf("%d Main St.\r\nSuite %d", 1+rng.IntN(9999), rng.IntN(500)), f.Length)
		case strings.HasSuffix(f.Name, "City"):
			return pickOf(genCities)
		case strings.HasSuffix(f.Name, "Latitude"), strings.HasSuffix(f.Name, "Latitude__s"):
			return round(rng.Float64()*180-90, 6)
		case strings.HasSuffix(f.Name, "Longitude"), strings.HasSuffix(f.Name, "Longitude__s"):
			return round(rng.Float64()*360-180, 6)
		case strings.HasSuffix(f.Name, "Country"):
			return pickOf([]string{"US", "Deutschland", "Brasil", "Schweiz", "日本", "Canada", "Ísland", "Polska"})
		case strings.HasSuffix(f.Name, "State"):
			return pickOf([]string{"CA", "NY", "Bayern", "Québec", "Zürich", "東京都", "AK"})
		case strings.HasSuffix(f.Name, "PostalCode"):
			return fmt.Sprintf("%05d", rng.IntN(100000))
		}
	}
	switch f.Type {
	case "picklist", "combobox", "multipicklist":
		if len(f.Picklist) == 0 {
			return nil
		}
	}
	switch f.Type {
	case "picklist", "combobox":
		return f.Picklist[(i+fi)%len(f.Picklist)]
	case "multipicklist":
		var parts []string
		for j, v := range f.Picklist {
			if (i>>j)&1 == 1 || j == i%len(f.Picklist) {
				parts = append(parts, v)
			}
		}
		return strings.Join(parts, ";")
	case "string", "encryptedstring":
		if f.Type == "encryptedstring" {
			return fmt.Sprintf("%03d-%02d-%04d", rng.IntN(1000), rng.IntN(100), rng.IntN(10000))
		}
		return fitRunes(fmt.Sprintf("%s %s %d", pickOf(genWords), pickOf(genWords), i), f.Length)
	case "textarea":
		var b strings.Builder
		words := 3 + rng.IntN(20)
		if f.Length > 255 && rng.IntN(20) == 0 {
			words = 1500 // long text: about ten kilobytes
		}
		for j := range words {
			if j > 0 {
				if j%9 == 0 {
					b.WriteString("\n")
				} else {
					b.WriteString(" ")
				}
			}
			b.WriteString(pickOf(genWords))
		}
		return fitRunes(b.String(), f.Length)
	case "phone":
		return fmt.Sprintf("(%03d) 555-%04d", 200+rng.IntN(800), rng.IntN(10000))
	case "email":
		return fmt.Sprintf("contact%d+%s@example.com", i, pickOf([]string{"a", "b.c", "o'hara", "x_y"}))
	case "url":
		return fmt.Sprintf("https://example.com/p/%d?q=%s&x=1", i, pickOf([]string{"a%27b", "c+d", "%E2%9C%93"}))
	case "boolean":
		return rng.IntN(2) == 1
	case "int":
		limit := int(math.Pow10(min(f.Digits, 6)))
		return int64(rng.IntN(limit))
	case "double", "currency":
		// Stay below 10^(precision-scale): rounding up must not add a digit
		// that the field's precision cannot hold.
		limit := math.Pow10(min(f.Precision-f.Scale, 7))
		v := round(rng.Float64()*limit, f.Scale)
		if v >= limit {
			v = round(limit-math.Pow10(-f.Scale), f.Scale)
		}
		return v
	case "percent":
		return round(rng.Float64()*100, min(f.Scale, 2))
	case "date":
		return o.now.AddDate(0, 0, -rng.IntN(3650)+30).Format("2006-01-02")
	case "datetime":
		return o.now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond)
	case "time":
		return fmt.Sprintf("%02d:%02d:%02d.000Z", rng.IntN(24), rng.IntN(60), rng.IntN(60))
	case "base64":
		b := make([]byte, 8+rng.IntN(64))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		return b
	case "reference":
		return o.genRef(f, rng)
	}
	return nil
}

// genRef picks a random live record of one of f's targets, or nil.
func (o *Org) genRef(f *fieldDef, rng *rand.Rand) any {
	targets := f.ReferenceTo
	start := rng.IntN(len(targets))
	for k := range targets {
		t := o.byName[strings.ToLower(targets[(start+k)%len(targets)])]
		if t == nil || len(t.records) == 0 {
			continue
		}
		for range 4 {
			r := t.records[rng.IntN(len(t.records))]
			if !r.deleted {
				return r.id
			}
		}
	}
	if f.Name == "OwnerId" {
		return o.userID
	}
	return nil
}

func fitRunes(s string, n int) string {
	if n <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func round(x float64, scale int) float64 {
	p := math.Pow10(scale)
	return math.Round(x*p) / p
}
