package outbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	tls  tls.Certificate
}

// newCert issues a certificate for name, signed by parent (self-signed
// when parent is nil).
func newCert(t *testing.T, name string, parent *testCert, isCA bool, usage x509.ExtKeyUsage) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: c, key: key, tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}}
}

// TestMutualTLS serves the handler with MutualTLSConfig and connects as
// Salesforce would (its client certificate), with another certificate of
// the same CA, and with none.
func TestMutualTLS(t *testing.T) {
	ca := newCert(t, "test CA", nil, true, x509.ExtKeyUsageAny)
	server := newCert(t, "127.0.0.1", ca, false, x509.ExtKeyUsageServerAuth)
	salesforce := newCert(t, "proxy.salesforce.com", ca, false, x509.ExtKeyUsageClientAuth)
	intruder := newCert(t, "intruder", ca, false, x509.ExtKeyUsageClientAuth)
	foreign := newCert(t, "foreign", nil, false, x509.ExtKeyUsageClientAuth)

	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: salesforce.cert.Raw})
	pinned, err := ParseCertificates(pemBytes)
	if err != nil || len(pinned) != 1 {
		t.Fatalf("ParseCertificates: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	rec := newRecorder()
	for _, tc := range []struct {
		name   string
		pinned []*x509.Certificate
		client *testCert
		ok     bool
	}{
		{"salesforce, pinned", pinned, salesforce, true},
		{"same CA, not pinned", pinned, intruder, false},
		{"same CA, no pin", nil, intruder, true},
		{"no client certificate", pinned, nil, false},
		{"other CA", nil, foreign, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(newHandler(rec))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
			srv.TLS = MutualTLSConfig(pool, tc.pinned...)
			srv.TLS.Certificates = []tls.Certificate{server.tls}
			srv.StartTLS()
			defer srv.Close()

			roots := x509.NewCertPool()
			roots.AddCert(ca.cert)
			clientTLS := &tls.Config{RootCAs: roots}
			if tc.client != nil {
				clientTLS.Certificates = []tls.Certificate{tc.client.tls}
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(testMessage(testOrg, "04l-"+tc.name)))
			req.Header.Set("Content-Type", "text/xml")
			resp, err := client.Do(req)
			if tc.ok {
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("want ack: %v %v", resp, err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("connected without an accepted certificate: %d", resp.StatusCode)
			}
		})
	}
	if _, err := ParseCertificates([]byte("junk")); err == nil {
		t.Error("ParseCertificates accepted junk")
	}
	if err := MutualTLSConfig(pool, pinned...).VerifyPeerCertificate([][]byte{intruder.cert.Raw}, nil); !errors.Is(err, ErrClientCert) {
		t.Errorf("VerifyPeerCertificate = %v", err)
	}
}
