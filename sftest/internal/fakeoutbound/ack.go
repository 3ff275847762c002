package fakeoutbound

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// XML namespaces of SALESFORCE.md 5.2 and 5.4.
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsOutbound = "http://soap.sforce.com/2005/09/outbound"
	nsSObject  = "urn:sobject.enterprise.soap.sforce.com"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	nsXSD      = "http://www.w3.org/2001/XMLSchema"
)

// ErrNotAcked is wrapped by every CheckAck error.
var ErrNotAcked = errors.New("not acknowledged")

// CheckAck reports whether an endpoint's answer is the acknowledgement of
// SALESFORCE.md 5.4: HTTP 200, an XML content type, and a SOAP 1.1
// Envelope whose Body holds notificationsResponse with Ack true, both in
// the namespace http://soap.sforce.com/2005/09/outbound (any prefix). A
// SOAP Fault, Ack false or missing, a wrong element or namespace, or a
// body that is not SOAP is an error wrapping ErrNotAcked. Only the
// correct form counts (7.8).
func CheckAck(status int, contentType string, body []byte) error {
	if status != 200 {
		return fmt.Errorf("%w: http status %d", ErrNotAcked, status)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "text/xml" && mt != "application/xml" && mt != "application/soap+xml") {
		return fmt.Errorf("%w: content type %q is not xml", ErrNotAcked, contentType)
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := expectStart(d, nsSOAP, "Envelope"); err != nil {
		return err
	}
	if err := expectStart(d, nsSOAP, "Body"); err != nil {
		return err
	}
	start, err := nextStart(d)
	if err != nil {
		return fmt.Errorf("%w: empty soap body: %w", ErrNotAcked, err)
	}
	if start.Name.Space == nsSOAP && start.Name.Local == "Fault" {
		return fmt.Errorf("%w: soap fault: %s", ErrNotAcked, faultString(d, &start))
	}
	if start.Name.Space != nsOutbound || start.Name.Local != "notificationsResponse" {
		return fmt.Errorf("%w: body element {%s}%s, want {%s}notificationsResponse",
			ErrNotAcked, start.Name.Space, start.Name.Local, nsOutbound)
	}
	return readAck(d)
}

// readAck reads the children of notificationsResponse.
func readAck(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("%w: malformed notificationsResponse: %w", ErrNotAcked, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != nsOutbound || t.Name.Local != "Ack" {
				if err := d.Skip(); err != nil {
					return fmt.Errorf("%w: malformed notificationsResponse: %w", ErrNotAcked, err)
				}
				continue
			}
			var v string
			if err := d.DecodeElement(&v, &t); err != nil {
				return fmt.Errorf("%w: malformed Ack: %w", ErrNotAcked, err)
			}
			// xsd:boolean: "true" or "1".
			if s := strings.TrimSpace(v); s != "true" && s != "1" {
				return fmt.Errorf("%w: Ack is %q", ErrNotAcked, s)
			}
			return nil
		case xml.EndElement:
			return fmt.Errorf("%w: no Ack element in {%s}notificationsResponse", ErrNotAcked, nsOutbound)
		}
	}
}

// expectStart reads up to the next start element and checks its name.
func expectStart(d *xml.Decoder, space, local string) error {
	t, err := nextStart(d)
	if err != nil {
		return fmt.Errorf("%w: not a soap envelope: %w", ErrNotAcked, err)
	}
	if t.Name.Space != space || t.Name.Local != local {
		return fmt.Errorf("%w: element {%s}%s, want {%s}%s", ErrNotAcked, t.Name.Space, t.Name.Local, space, local)
	}
	return nil
}

// nextStart returns the next start element; it fails on an end element or
// on text other than white space first.
func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, io.ErrUnexpectedEOF
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, fmt.Errorf("unexpected end of %s", t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("unexpected text")
			}
		}
	}
}

// faultString extracts faultstring from a Fault for the delivery log.
func faultString(d *xml.Decoder, start *xml.StartElement) string {
	var f struct {
		Code   string `xml:"faultcode"`
		String string `xml:"faultstring"`
	}
	if err := d.DecodeElement(&f, start); err != nil {
		return "malformed fault"
	}
	s := strings.TrimSpace(f.Code + " " + f.String)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
