package outbound

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrClientCert is returned during the TLS handshake when the client's
// certificate verifies but is not one of the pinned certificates.
var ErrClientCert = errors.New("outbound: client certificate not accepted")

// MutualTLSConfig returns a server tls.Config (TLS 1.2 or later) that
// demands a client certificate chaining to clientCAs, as Salesforce
// presents when the endpoint requires one (SALESFORCE.md 5.6). Download
// Salesforce's client certificate in Setup (API, "Download Client
// Certificate") and pass it in clientCAs (ParseCertificates and
// x509.CertPool.AddCert), together with the CA that issued it if it is not
// self-signed.
//
// A CA pool alone accepts every certificate that CA issued, so also pass
// the downloaded certificate as pinned: the handshake then fails with
// ErrClientCert unless the client's leaf certificate is byte-for-byte one
// of them. Salesforce renews the certificate from time to time: pin both
// the old and the new one during the change. Set Certificates (or
// GetCertificate) on the result before use:
//
//	cfg := outbound.MutualTLSConfig(pool, sfCert)
//	cfg.Certificates = []tls.Certificate{serverCert}
//	srv := &http.Server{Addr: ":443", Handler: h, TLSConfig: cfg}
//	err := srv.ListenAndServeTLS("", "")
func MutualTLSConfig(clientCAs *x509.CertPool, pinned ...*x509.Certificate) *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  clientCAs,
	}
	if len(pinned) == 0 {
		return cfg
	}
	raws := make([][]byte, len(pinned))
	for i, c := range pinned {
		raws[i] = c.Raw
	}
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		if len(rawCerts) == 0 {
			return ErrClientCert
		}
		for _, r := range raws {
			if bytes.Equal(r, rawCerts[0]) {
				return nil
			}
		}
		return ErrClientCert
	}
	return cfg
}

// ParseCertificates reads the PEM certificates in b, such as Salesforce's
// downloaded client certificate.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("outbound: no PEM certificate found")
	}
	return certs, nil
}
