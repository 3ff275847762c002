package metadata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/rest"
)

// Client reads object metadata through the REST API. It is safe for
// concurrent use.
type Client struct {
	// REST is the transport; it must be set.
	REST *rest.Client
	// Cache keeps describe responses between calls so that they are
	// revalidated with If-Modified-Since. Nil means an in-memory cache
	// owned by this Client. A caller can persist metadata across restarts
	// by supplying its own Cache; one Cache may serve several orgs and API
	// versions, since its keys hold the instance URL and the version.
	Cache Cache

	once    sync.Once
	mem     *MemoryCache
	mu      sync.Mutex
	decoded map[string]decodedEntry // key -> last decoded value, to skip decoding on 304
}

// Cache stores raw describe responses by key. Implementations must be
// safe for concurrent use. Get reports false when nothing is stored.
type Cache interface {
	Get(ctx context.Context, key string) (CacheEntry, bool, error)
	Put(ctx context.Context, key string, e CacheEntry) error
}

// CacheEntry is one stored response: the Last-Modified header it came with
// (sent back as If-Modified-Since) and the JSON body.
type CacheEntry struct {
	LastModified string // the Last-Modified header, as sent
	Body         []byte // the response body
}

// MemoryCache is an in-memory Cache. The zero value is ready to use.
type MemoryCache struct {
	mu sync.Mutex
	m  map[string]CacheEntry
}

// Get returns the entry stored under key.
func (m *MemoryCache) Get(_ context.Context, key string) (CacheEntry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	return e, ok, nil
}

// Put stores e under key.
func (m *MemoryCache) Put(_ context.Context, key string, e CacheEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]CacheEntry)
	}
	m.m[key] = e
	return nil
}

type decodedEntry struct {
	lastModified string
	value        any // *Global or *SObject
}

// Global is the describeGlobal result (SALESFORCE.md 3.1; Salesforce
// reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm).
type Global struct {
	Encoding     string          `json:"encoding"`     // the org's character encoding, "UTF-8"
	MaxBatchSize int             `json:"maxBatchSize"` // the most records per SOAP create/update call
	SObjects     []GlobalSObject `json:"sobjects"`     // every object the user can see
}

// GlobalSObject is one object of describeGlobal; the flags are those of
// the DescribeGlobalSObjectResult
// (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describeglobal_describeglobalsobjectresult.htm).
type GlobalSObject struct {
	Name                string `json:"name"`                // API name, such as Account or Invoice__c
	Label               string `json:"label"`               // label in the org's language
	KeyPrefix           string `json:"keyPrefix"`           // first 3 characters of its Ids; "" when Salesforce gives null
	Custom              bool   `json:"custom"`              // a custom object
	Queryable           bool   `json:"queryable"`           // SOQL can query it
	Retrieveable        bool   `json:"retrieveable"`        // its records can be read by Id
	Replicateable       bool   `json:"replicateable"`       // getUpdated/getDeleted serve it
	DeprecatedAndHidden bool   `json:"deprecatedAndHidden"` // retired; not to be used
	CustomSetting       bool   `json:"customSetting"`       // a custom setting
}

// SObject is the describe of one object (SALESFORCE.md 3.2), reduced to
// what sync needs. The flags mean what they mean in GlobalSObject.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
type SObject struct {
	Name                string  `json:"name"`
	Label               string  `json:"label"`
	KeyPrefix           string  `json:"keyPrefix"`
	Custom              bool    `json:"custom"`
	CustomSetting       bool    `json:"customSetting"`
	Queryable           bool    `json:"queryable"`
	Retrieveable        bool    `json:"retrieveable"`
	Replicateable       bool    `json:"replicateable"`
	DeprecatedAndHidden bool    `json:"deprecatedAndHidden"`
	Fields              []Field `json:"fields"` // in describe order
	// LastModified is the response's Last-Modified time; zero when the
	// server sent none.
	LastModified time.Time `json:"-"`
}

// Field is one field of a describe. Type is Salesforce's field type as
// sent; values this package does not know (future types) are kept as they
// are and mapped to a JSON column.
//
// Salesforce reference: the Field properties of
// https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm
// and the types of https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm
type Field struct {
	Name     string `json:"name"`     // API name
	Type     string `json:"type"`     // field type, such as "string", "currency", "reference"
	SoapType string `json:"soapType"` // XML schema type, such as "xsd:double"
	Label    string `json:"label"`    // label in the org's language

	Custom     bool `json:"custom"`     // a custom field (__c)
	Nillable   bool `json:"nillable"`   // may be null
	Calculated bool `json:"calculated"` // a formula or roll-up summary
	ExternalID bool `json:"externalId"` // an external Id field

	Length    int `json:"length"`    // maximum characters of a text field
	Precision int `json:"precision"` // total digits of a number
	Scale     int `json:"scale"`     // digits after the decimal point
	Digits    int `json:"digits"`    // maximum digits of an int

	// CompoundFieldName names the compound parent of a component, such as
	// "BillingAddress" for BillingCity; "" otherwise.
	CompoundFieldName string `json:"compoundFieldName"`
	// ReferenceTo lists the objects a reference (lookup) field may point to.
	ReferenceTo []string `json:"referenceTo"`
	// RelationshipName names the parent in a path, such as Owner for OwnerId.
	RelationshipName string `json:"relationshipName"`
	// ExtraTypeInfo refines Type, such as "richtextarea" or "personname".
	ExtraTypeInfo string `json:"extraTypeInfo"`
	// PicklistValues are the values of a picklist or multipicklist.
	PicklistValues []PicklistValue `json:"picklistValues"`
}

// PicklistValue is one value of a picklist field.
type PicklistValue struct {
	Value        string `json:"value"`        // the API value stored in records
	Label        string `json:"label"`        // the label users see
	Active       bool   `json:"active"`       // still selectable
	DefaultValue bool   `json:"defaultValue"` // the default for new records
}

// Field returns the field with the given API name, matched
// case-insensitively as Salesforce matches names.
func (o *SObject) Field(name string) (Field, bool) {
	for _, f := range o.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// ErrInvalidName is returned for an object name that is not an API name.
var ErrInvalidName = errors.New("metadata: invalid object name")

// DescribeGlobal lists the org's objects (GET /sobjects/). The result is
// cached and revalidated with If-Modified-Since; on 304 the cached value
// is returned without decoding. Callers must not modify the result.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm
func (c *Client) DescribeGlobal(ctx context.Context) (*Global, error) {
	v, _, err := c.fetch(ctx, "sobjects/", decodeGlobal)
	if err != nil {
		return nil, fmt.Errorf("describe global: %w", err)
	}
	return v.(*Global), nil
}

// Describe returns the describe of one object
// (GET /sobjects/{object}/describe/), cached like DescribeGlobal. Callers
// must not modify the result.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm and,
// for the revalidation, https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/sobject_describe_with_ifmodified_header.htm
func (c *Client) Describe(ctx context.Context, object string) (*SObject, error) {
	if !validName(object) {
		return nil, fmt.Errorf("describe %q: %w", object, ErrInvalidName)
	}
	v, lm, err := c.fetch(ctx, "sobjects/"+object+"/describe/", decodeSObject)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	o := v.(*SObject)
	if o.LastModified.IsZero() && lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			o.LastModified = t.UTC()
		}
	}
	return o, nil
}

// DecodeGlobal decodes a describeGlobal body.
func DecodeGlobal(body []byte) (*Global, error) {
	v, err := decodeGlobal(body)
	if err != nil {
		return nil, err
	}
	return v.(*Global), nil
}

// DecodeSObject decodes a describe body.
func DecodeSObject(body []byte) (*SObject, error) {
	v, err := decodeSObject(body)
	if err != nil {
		return nil, err
	}
	return v.(*SObject), nil
}

func decodeGlobal(body []byte) (any, error) {
	var g Global
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, fmt.Errorf("decode describe global: %w", err)
	}
	return &g, nil
}

func decodeSObject(body []byte) (any, error) {
	var o SObject
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, fmt.Errorf("decode describe: %w", err)
	}
	if o.Name == "" {
		return nil, errors.New("decode describe: no object name")
	}
	for i, f := range o.Fields {
		if f.Name == "" {
			return nil, fmt.Errorf("decode describe %s: field %d has no name", o.Name, i)
		}
	}
	return &o, nil
}

func (c *Client) cache() Cache {
	if c.Cache != nil {
		return c.Cache
	}
	c.once.Do(func() { c.mem = &MemoryCache{} })
	return c.mem
}

// fetch GETs path, revalidating a cached copy. It returns the decoded
// value and its Last-Modified header.
func (c *Client) fetch(ctx context.Context, path string, decode func([]byte) (any, error)) (any, string, error) {
	if c.REST == nil {
		return nil, "", errors.New("metadata: nil REST client")
	}
	// One Cache may serve several orgs and versions: the key says which.
	key := c.REST.InstanceURL + " v" + c.REST.Version() + " " + path
	cache := c.cache()
	cached, ok, err := cache.Get(ctx, key)
	if err != nil {
		return nil, "", fmt.Errorf("read cache: %w", err)
	}
	req := &rest.Request{Method: http.MethodGet, Path: path, Header: http.Header{}}
	if ok && cached.LastModified != "" {
		req.Header.Set("If-Modified-Since", cached.LastModified)
	}
	resp, err := c.REST.Do(ctx, req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()

	if resp.StatusCode == http.StatusNotModified && ok {
		io.Copy(io.Discard, resp.Body)
		v, err := c.decodedFor(key, cached, decode)
		return v, cached.LastModified, err
	}
	if resp.StatusCode == http.StatusNotModified {
		return nil, "", errors.New("304 not modified without a cached copy")
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, "", fmt.Errorf("read body: %w", err)
	}
	body := buf.Bytes()
	v, err := decode(body)
	if err != nil {
		return nil, "", err
	}
	lm := resp.Header.Get("Last-Modified")
	if o, isObj := v.(*SObject); isObj && lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			o.LastModified = t.UTC()
		}
	}
	if lm != "" {
		e := CacheEntry{LastModified: lm, Body: body}
		if err := cache.Put(ctx, key, e); err != nil {
			return nil, "", fmt.Errorf("write cache: %w", err)
		}
		c.remember(key, lm, v)
	}
	return v, lm, nil
}

// decodedFor returns the decoded form of a cached entry, decoding it only
// the first time (for example after a restart with a persistent Cache).
func (c *Client) decodedFor(key string, e CacheEntry, decode func([]byte) (any, error)) (any, error) {
	c.mu.Lock()
	d, ok := c.decoded[key]
	c.mu.Unlock()
	if ok && d.lastModified == e.LastModified {
		return d.value, nil
	}
	v, err := decode(e.Body)
	if err != nil {
		return nil, fmt.Errorf("cached copy: %w", err)
	}
	if o, isObj := v.(*SObject); isObj {
		if t, err := http.ParseTime(e.LastModified); err == nil {
			o.LastModified = t.UTC()
		}
	}
	c.remember(key, e.LastModified, v)
	return v, nil
}

func (c *Client) remember(key, lm string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decoded == nil {
		c.decoded = make(map[string]decodedEntry)
	}
	c.decoded[key] = decodedEntry{lastModified: lm, value: v}
}

// validName reports whether s is a plain API name: an ASCII letter, then
// letters, digits and underscores.
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z':
		case i > 0 && ('0' <= ch && ch <= '9' || ch == '_'):
		default:
			return false
		}
	}
	return true
}
