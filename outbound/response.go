package outbound

import (
	"errors"
	"net/http"
	"strconv"
)

// ackBody is the acknowledgement of SALESFORCE.md 5.4, byte for byte: a
// notificationsResponse in the outbound namespace holding Ack true.
const ackBody = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`

const xmlContentType = "text/xml; charset=utf-8"

// WriteAck writes the acknowledgement Salesforce needs to dequeue a
// message (SALESFORCE.md 5.4): status 200, Content-Type text/xml;
// charset=utf-8, a notificationsResponse with Ack true. One ack covers
// every notification of the message, so write it only once all of them
// are stored.
func WriteAck(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", xmlContentType)
	h.Set("Content-Length", strconv.Itoa(len(ackBody)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(ackBody))
}

// WriteFault writes a SOAP 1.1 fault with the given HTTP status, so that
// Salesforce keeps the message queued and retries it. The faultcode is
// soapenv:Client for a 4xx status and soapenv:Server otherwise. The
// faultstring is a fixed phrase chosen from status and the category of
// err (FaultString); it never contains err's text, which may hold internal
// detail.
func WriteFault(w http.ResponseWriter, status int, err error) {
	code := "soapenv:Server"
	if status >= 400 && status < 500 {
		code = "soapenv:Client"
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>` + code + `</faultcode>
   <faultstring>` + FaultString(status, err) + `</faultstring>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>
`
	h := w.Header()
	h.Set("Content-Type", xmlContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// publicErrors are the errors whose category may be told to the sender:
// they describe the sender's input, never this side's state. Their texts
// contain no character XML needs escaped.
var publicErrors = []error{
	ErrNotXML, ErrNotJSON, ErrDoctype, ErrTooLarge, ErrLimit, ErrNotEnvelope,
	ErrNotNotifications, ErrMalformed, ErrTooManyNotifications,
	ErrBadNotification, ErrBadSObject, ErrBadSignature,
}

// FaultString returns the fixed, safe phrase WriteFault and the JSON form
// send for status and err: the category of a decoding error ("outbound:
// more than 100 notifications"), else a phrase for the status alone.
func FaultString(status int, err error) string {
	for _, pe := range publicErrors {
		if errors.Is(err, pe) {
			return pe.Error()
		}
	}
	switch status {
	case http.StatusBadRequest:
		return "outbound: invalid outbound message"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "outbound: organization or action not accepted"
	case http.StatusNotFound:
		return "outbound: not found"
	case http.StatusMethodNotAllowed:
		return "outbound: method not allowed; use POST"
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge.Error()
	case http.StatusUnsupportedMediaType:
		return "outbound: unsupported content type; send text/xml"
	}
	if status >= 500 {
		return "outbound: temporary failure; the message will be retried"
	}
	return "outbound: message not accepted"
}
