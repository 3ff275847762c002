package fakeauth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// bearer extracts the access token from "Authorization: Bearer <t>" (or
// the older "OAuth <t>", SALESFORCE.md 2.1).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

// authorized checks the bearer token of an identity or userinfo request.
// Salesforce answers a missing or bad token on these endpoints with 403
// and a plain text reason (1.9 leaves the exact status unconfirmed; the
// strict reading is used here).
func (a *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := bearer(r)
	if tok == "" {
		http.Error(w, "Missing_OAuth_Token", http.StatusForbidden)
		return false
	}
	if !a.Validate(tok) {
		http.Error(w, "Bad_OAuth_Token", http.StatusForbidden)
		return false
	}
	return true
}

// sameID compares IDs as Salesforce does: the first 15 characters,
// case-sensitively (SALESFORCE.md 6).
func sameID(a, b string) bool {
	return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15] &&
		(len(a) == 15 || len(a) == 18) && (len(b) == 15 || len(b) == 18)
}

// serveIdentity is GET /id/{orgID}/{userID} (1.9).
func (a *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !a.authorized(w, r) {
		return
	}
	if !sameID(r.PathValue("orgID"), a.cfg.OrgID) || !sameID(r.PathValue("userID"), a.cfg.UserID) {
		http.Error(w, "Bad_Id", http.StatusNotFound)
		return
	}
	writeJSON(w, a.identity())
}

// serveUserinfo is GET /services/oauth2/userinfo (1.9, OpenID Connect
// field names).
func (a *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !a.authorized(w, r) {
		return
	}
	id := a.identity()
	writeJSON(w, ordered{
		{"sub", a.identityURL()},
		{"user_id", a.cfg.UserID},
		{"organization_id", a.cfg.OrgID},
		{"preferred_username", a.cfg.Username},
		{"nickname", id.value("nick_name")},
		{"name", id.value("display_name")},
		{"email", a.cfg.Email},
		{"email_verified", true},
		{"given_name", a.cfg.FirstName},
		{"family_name", a.cfg.LastName},
		{"zoneinfo", "America/Los_Angeles"},
		{"photos", id.value("photos")},
		{"profile", a.cfg.BaseURL() + "/" + a.cfg.UserID},
		{"picture", a.cfg.BaseURL() + "/profilephoto/005/F"},
		{"address", map[string]any{}},
		{"urls", id.value("urls")},
		{"active", true},
		{"user_type", "STANDARD"},
		{"language", "en_US"},
		{"locale", "en_US"},
		{"utcOffset", -28800000},
		{"updated_at", "2024-01-01T00:00:00Z"},
	})
}

// identity is the identity response, with the fields and order of the
// recorded responses.
func (a *Server) identity() ordered {
	base := a.cfg.BaseURL()
	org := org15(a.cfg.OrgID)
	nick, _, _ := strings.Cut(a.cfg.Username, "@")
	urls := ordered{
		{"enterprise", base + "/services/Soap/c/{version}/" + org},
		{"metadata", base + "/services/Soap/m/{version}/" + org},
		{"partner", base + "/services/Soap/u/{version}/" + org},
		{"rest", base + "/services/data/v{version}/"},
		{"sobjects", base + "/services/data/v{version}/sobjects/"},
		{"search", base + "/services/data/v{version}/search/"},
		{"query", base + "/services/data/v{version}/query/"},
		{"recent", base + "/services/data/v{version}/recent/"},
		{"tooling_soap", base + "/services/Soap/T/{version}/" + org},
		{"tooling_rest", base + "/services/data/v{version}/tooling/"},
		{"profile", base + "/" + a.cfg.UserID},
		{"feeds", base + "/services/data/v{version}/chatter/feeds"},
		{"groups", base + "/services/data/v{version}/chatter/groups"},
		{"users", base + "/services/data/v{version}/chatter/users"},
		{"feed_items", base + "/services/data/v{version}/chatter/feed-items"},
		{"feed_elements", base + "/services/data/v{version}/chatter/feed-elements"},
		{"custom_domain", base},
	}
	return ordered{
		{"id", a.identityURL()},
		{"asserted_user", true},
		{"user_id", a.cfg.UserID},
		{"organization_id", a.cfg.OrgID},
		{"username", a.cfg.Username},
		{"nick_name", nick},
		{"display_name", a.cfg.FirstName + " " + a.cfg.LastName},
		{"email", a.cfg.Email},
		{"email_verified", true},
		{"first_name", a.cfg.FirstName},
		{"last_name", a.cfg.LastName},
		{"timezone", "America/Los_Angeles"},
		{"photos", ordered{
			{"picture", base + "/profilephoto/005/F"},
			{"thumbnail", base + "/profilephoto/005/T"},
		}},
		{"addr_street", nil},
		{"addr_city", nil},
		{"addr_state", nil},
		{"addr_country", nil},
		{"addr_zip", nil},
		{"mobile_phone", nil},
		{"mobile_phone_verified", false},
		{"is_lightning_login_user", false},
		{"status", ordered{{"created_date", nil}, {"body", nil}}},
		{"urls", urls},
		{"active", true},
		{"user_type", "STANDARD"},
		{"language", "en_US"},
		{"locale", "en_US"},
		{"utcOffset", -28800000},
		{"last_modified_date", "2024-01-01T00:00:00Z"},
		{"is_app_installed", true},
	}
}

// ordered is a JSON object that keeps its key order.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) value(k string) any {
	for _, p := range o {
		if p.k == k {
			return p.v
		}
	}
	return nil
}

// MarshalJSON writes the pairs in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(p.k)
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Write(b)
}
