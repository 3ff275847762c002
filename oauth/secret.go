package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is token material (an access or refresh token). It prints,
// formats, logs and marshals as "[redacted]"; Reveal gives the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v hides the value too.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, so no fmt verb reveals the
// value.
func (s Secret) Format(f fmt.State, verb rune) { f.Write([]byte(redacted)) }

// LogValue returns "[redacted]" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", so JSON and text encoders hide it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Key is one AES-256 key for sealing token material. ID names it inside
// every sealed value so that keys can rotate.
type Key struct {
	ID     string // 1 to 64 characters of [A-Za-z0-9._-]
	Secret []byte // 32 bytes
}

// String hides the key bytes.
func (k Key) String() string { return "oauth.Key{ID:" + k.ID + ", Secret:[redacted]}" }

// GoString hides the key bytes.
func (k Key) GoString() string { return k.String() }

// LogValue hides the key bytes.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Format hides the key bytes for every verb.
func (k Key) Format(f fmt.State, verb rune) { f.Write([]byte(k.String())) }

// ParseKey builds a Key from its ID and 32 bytes in standard or URL-safe
// base64 (padded or not), the form configuration holds.
func ParseKey(id, base64Text string) (Key, error) {
	t := strings.TrimSpace(base64Text)
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(t); err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, errors.New("parse key " + id + ": not base64")
	}
	k := Key{ID: id, Secret: b}
	if err := k.validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// GenerateKey returns a new random Key with the given ID.
func GenerateKey(id string) (Key, error) {
	k := Key{ID: id, Secret: make([]byte, 32)}
	if _, err := rand.Read(k.Secret); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return k, k.validate()
}

// Base64 returns the key bytes in standard base64, for configuration.
func (k Key) Base64() string { return base64.StdEncoding.EncodeToString(k.Secret) }

func (k Key) validate() error {
	if len(k.Secret) != 32 {
		return fmt.Errorf("key %q: %d bytes, want 32", k.ID, len(k.Secret))
	}
	if k.ID == "" || len(k.ID) > 64 {
		return fmt.Errorf("key id %q: want 1 to 64 characters", k.ID)
	}
	for _, r := range k.ID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("key id %q: only letters, digits, '.', '_' and '-'", k.ID)
		}
	}
	return nil
}

// Errors of Sealer.Open.
var (
	ErrUnknownKey = errors.New("oauth: sealed with an unknown key")
	ErrBadSeal    = errors.New("oauth: sealed data is malformed or was tampered with")
)

// Sealer seals and opens token material with AES-256-GCM. A sealed value
// is: format byte 1, the key ID length, the key ID, a 12-byte random nonce,
// then the ciphertext and tag. New values use the current key; values
// sealed with any of the old keys still open. Safe for concurrent use.
type Sealer struct {
	current string
	aeads   map[string]cipher.AEAD
}

const sealFormat = 1

// String names the current key; it never prints key material.
func (s *Sealer) String() string { return "oauth.Sealer{current:" + s.current + "}" }

// Format writes String for every verb, so no fmt verb prints the ciphers.
func (s *Sealer) Format(f fmt.State, _ rune) { f.Write([]byte(s.String())) }

// LogValue logs the Sealer as String.
func (s *Sealer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// NewSealer returns a Sealer that seals with current and opens values
// sealed with current or any of old. Key IDs must be distinct.
func NewSealer(current Key, old ...Key) (*Sealer, error) {
	s := &Sealer{current: current.ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range append([]Key{current}, old...) {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("new sealer: %w", err)
		}
		if _, dup := s.aeads[k.ID]; dup {
			return nil, fmt.Errorf("new sealer: key id %q given twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("new sealer: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("new sealer: %w", err)
		}
		s.aeads[k.ID] = aead
	}
	return s, nil
}

// Seal encrypts plaintext with the current key. aad (additional data, such
// as the org ID) is authenticated, not stored: Open needs the same aad.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := s.aeads[s.current]
	out := make([]byte, 0, 2+len(s.current)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, sealFormat, byte(len(s.current)))
	out = append(out, s.current...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same aad. It fails with
// ErrUnknownKey or ErrBadSeal.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	id, rest, err := splitSealed(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := s.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrBadSeal
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, ErrBadSeal
	}
	return pt, nil
}

// KeyID returns the ID of the key a value was sealed with.
func KeyID(sealed []byte) (string, error) {
	id, _, err := splitSealed(sealed)
	return id, err
}

// NeedsReseal reports whether a value was sealed with a key other than the
// current one (rotation: re-save it to move it to the current key).
func (s *Sealer) NeedsReseal(sealed []byte) bool {
	id, err := KeyID(sealed)
	return err == nil && id != s.current
}

func splitSealed(b []byte) (string, []byte, error) {
	if len(b) < 2 || b[0] != sealFormat {
		return "", nil, ErrBadSeal
	}
	n := int(b[1])
	if n == 0 || len(b) < 2+n {
		return "", nil, ErrBadSeal
	}
	return string(b[2 : 2+n]), b[2+n:], nil
}
