package fakeoutbound

import (
	"bytes"
	"unicode/utf8"
)

// envelope is one outbound SOAP message (SALESFORCE.md 5.2).
type envelope struct {
	OrgID, ActionID, Object string
	Session                 string
	NilSession              bool
	Enterprise, Partner     string
	Notes                   []envNotification
	Declaration             bool
}

type envNotification struct {
	ID, RecordID string
	Fields       []FieldValue // non-null, in order
}

// bytes writes the envelope in Salesforce's layout: XML declaration,
// one-space indentation, default namespace on notifications, sf prefix
// declared on each sObject, Id first, null fields left out.
func (e *envelope) bytes() []byte {
	var b bytes.Buffer
	if e.Declaration {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + nsSOAP + `" xmlns:xsd="` + nsXSD + `" xmlns:xsi="` + nsXSI + "\">\n")
	b.WriteString(" <soapenv:Body>\n")
	b.WriteString(`  <notifications xmlns="` + nsOutbound + "\">\n")
	elem(&b, "   ", "OrganizationId", e.OrgID)
	elem(&b, "   ", "ActionId", e.ActionID)
	if e.NilSession {
		b.WriteString("   <SessionId xsi:nil=\"true\"/>\n")
	} else {
		elem(&b, "   ", "SessionId", e.Session)
	}
	elem(&b, "   ", "EnterpriseUrl", e.Enterprise)
	elem(&b, "   ", "PartnerUrl", e.Partner)
	for _, n := range e.Notes {
		b.WriteString("   <Notification>\n")
		elem(&b, "    ", "Id", n.ID)
		b.WriteString(`    <sObject xsi:type="sf:`)
		escape(&b, e.Object, true)
		b.WriteString(`" xmlns:sf="` + nsSObject + "\">\n")
		elem(&b, "     ", "sf:Id", n.RecordID)
		for _, f := range n.Fields {
			elem(&b, "     ", "sf:"+f.Name, *f.Value)
		}
		b.WriteString("    </sObject>\n")
		b.WriteString("   </Notification>\n")
	}
	b.WriteString("  </notifications>\n")
	b.WriteString(" </soapenv:Body>\n")
	b.WriteString("</soapenv:Envelope>\n")
	return b.Bytes()
}

func elem(b *bytes.Buffer, indent, name, text string) {
	b.WriteString(indent + "<" + name + ">")
	escape(b, text, false)
	b.WriteString("</" + name + ">\n")
}

// escape writes s as XML character data (or an attribute value). It
// escapes only what XML needs, keeps newlines and tabs as they are, writes
// a carriage return as a reference so that it survives parsing, and
// replaces characters XML 1.0 cannot carry with U+FFFD.
func escape(b *bytes.Buffer, s string, attr bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#13;")
		case (r == '\n' || r == '\t') && attr:
			b.WriteString("&#" + map[rune]string{'\n': "10", '\t': "9"}[r] + ";")
		case r == utf8.RuneError && size == 1, !xmlChar(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// xmlChar reports whether r is allowed in XML 1.0 documents.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
