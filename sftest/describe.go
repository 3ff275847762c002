package sftest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// describe JSON shapes, with the keys of real v53 describes in their
// order (SALESFORCE.md 3.1, 3.2; fixtures/salesforce/describe).

type urlsGlobal struct {
	SObject     string `json:"sobject"`
	Describe    string `json:"describe"`
	RowTemplate string `json:"rowTemplate"`
}

type globalSObject struct {
	Activateable        bool       `json:"activateable"`
	Createable          bool       `json:"createable"`
	Custom              bool       `json:"custom"`
	CustomSetting       bool       `json:"customSetting"`
	Deletable           bool       `json:"deletable"`
	DeprecatedAndHidden bool       `json:"deprecatedAndHidden"`
	FeedEnabled         bool       `json:"feedEnabled"`
	KeyPrefix           *string    `json:"keyPrefix"`
	Label               string     `json:"label"`
	LabelPlural         string     `json:"labelPlural"`
	Layoutable          bool       `json:"layoutable"`
	Mergeable           bool       `json:"mergeable"`
	MruEnabled          bool       `json:"mruEnabled"`
	Name                string     `json:"name"`
	Queryable           bool       `json:"queryable"`
	Replicateable       bool       `json:"replicateable"`
	Retrieveable        bool       `json:"retrieveable"`
	Searchable          bool       `json:"searchable"`
	Triggerable         bool       `json:"triggerable"`
	Undeletable         bool       `json:"undeletable"`
	Updateable          bool       `json:"updateable"`
	URLs                urlsGlobal `json:"urls"`
}

type picklistValue struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

type describeField struct {
	Aggregatable                 bool            `json:"aggregatable"`
	AIPredictionField            bool            `json:"aiPredictionField"`
	AutoNumber                   bool            `json:"autoNumber"`
	ByteLength                   int             `json:"byteLength"`
	Calculated                   bool            `json:"calculated"`
	CalculatedFormula            *string         `json:"calculatedFormula"`
	CascadeDelete                bool            `json:"cascadeDelete"`
	CaseSensitive                bool            `json:"caseSensitive"`
	CompoundFieldName            *string         `json:"compoundFieldName"`
	ControllerName               *string         `json:"controllerName"`
	Createable                   bool            `json:"createable"`
	Custom                       bool            `json:"custom"`
	DefaultValue                 any             `json:"defaultValue"`
	DefaultValueFormula          *string         `json:"defaultValueFormula"`
	DefaultedOnCreate            bool            `json:"defaultedOnCreate"`
	DependentPicklist            bool            `json:"dependentPicklist"`
	DeprecatedAndHidden          bool            `json:"deprecatedAndHidden"`
	Digits                       int             `json:"digits"`
	DisplayLocationInDecimal     bool            `json:"displayLocationInDecimal"`
	Encrypted                    bool            `json:"encrypted"`
	ExternalID                   bool            `json:"externalId"`
	ExtraTypeInfo                *string         `json:"extraTypeInfo"`
	Filterable                   bool            `json:"filterable"`
	FilteredLookupInfo           any             `json:"filteredLookupInfo"`
	FormulaTreatNullNumberAsZero bool            `json:"formulaTreatNullNumberAsZero"`
	Groupable                    bool            `json:"groupable"`
	HighScaleNumber              bool            `json:"highScaleNumber"`
	HTMLFormatted                bool            `json:"htmlFormatted"`
	IDLookup                     bool            `json:"idLookup"`
	InlineHelpText               *string         `json:"inlineHelpText"`
	Label                        string          `json:"label"`
	Length                       int             `json:"length"`
	Mask                         *string         `json:"mask"`
	MaskType                     *string         `json:"maskType"`
	Name                         string          `json:"name"`
	NameField                    bool            `json:"nameField"`
	NamePointing                 bool            `json:"namePointing"`
	Nillable                     bool            `json:"nillable"`
	Permissionable               bool            `json:"permissionable"`
	PicklistValues               []picklistValue `json:"picklistValues"`
	PolymorphicForeignKey        bool            `json:"polymorphicForeignKey"`
	Precision                    int             `json:"precision"`
	QueryByDistance              bool            `json:"queryByDistance"`
	ReferenceTargetField         *string         `json:"referenceTargetField"`
	ReferenceTo                  []string        `json:"referenceTo"`
	RelationshipName             *string         `json:"relationshipName"`
	RelationshipOrder            *int            `json:"relationshipOrder"`
	RestrictedDelete             bool            `json:"restrictedDelete"`
	RestrictedPicklist           bool            `json:"restrictedPicklist"`
	Scale                        int             `json:"scale"`
	SearchPrefilterable          bool            `json:"searchPrefilterable"`
	SoapType                     string          `json:"soapType"`
	Sortable                     bool            `json:"sortable"`
	Type                         string          `json:"type"`
	Unique                       bool            `json:"unique"`
	Updateable                   bool            `json:"updateable"`
	WriteRequiresMasterRead      bool            `json:"writeRequiresMasterRead"`
}

type childRelationship struct {
	CascadeDelete       bool     `json:"cascadeDelete"`
	ChildSObject        string   `json:"childSObject"`
	DeprecatedAndHidden bool     `json:"deprecatedAndHidden"`
	Field               string   `json:"field"`
	JunctionIDListNames []string `json:"junctionIdListNames"`
	JunctionReferenceTo []string `json:"junctionReferenceTo"`
	RelationshipName    *string  `json:"relationshipName"`
	RestrictedDelete    bool     `json:"restrictedDelete"`
}

type recordTypeInfo struct {
	Active                   bool              `json:"active"`
	Available                bool              `json:"available"`
	DefaultRecordTypeMapping bool              `json:"defaultRecordTypeMapping"`
	DeveloperName            string            `json:"developerName"`
	Master                   bool              `json:"master"`
	Name                     string            `json:"name"`
	RecordTypeID             string            `json:"recordTypeId"`
	URLs                     map[string]string `json:"urls"`
}

type describeSObject struct {
	ActionOverrides       []any               `json:"actionOverrides"`
	Activateable          bool                `json:"activateable"`
	AssociateEntityType   *string             `json:"associateEntityType"`
	AssociateParentEntity *string             `json:"associateParentEntity"`
	ChildRelationships    []childRelationship `json:"childRelationships"`
	CompactLayoutable     bool                `json:"compactLayoutable"`
	Createable            bool                `json:"createable"`
	Custom                bool                `json:"custom"`
	CustomSetting         bool                `json:"customSetting"`
	DeepCloneable         bool                `json:"deepCloneable"`
	DefaultImplementation *string             `json:"defaultImplementation"`
	Deletable             bool                `json:"deletable"`
	DeprecatedAndHidden   bool                `json:"deprecatedAndHidden"`
	ExtendedBy            *string             `json:"extendedBy"`
	ExtendsInterfaces     *string             `json:"extendsInterfaces"`
	FeedEnabled           bool                `json:"feedEnabled"`
	Fields                []describeField     `json:"fields"`
	HasSubtypes           bool                `json:"hasSubtypes"`
	ImplementedBy         *string             `json:"implementedBy"`
	ImplementsInterfaces  *string             `json:"implementsInterfaces"`
	IsInterface           bool                `json:"isInterface"`
	IsSubtype             bool                `json:"isSubtype"`
	KeyPrefix             *string             `json:"keyPrefix"`
	Label                 string              `json:"label"`
	LabelPlural           string              `json:"labelPlural"`
	Layoutable            bool                `json:"layoutable"`
	Listviewable          *bool               `json:"listviewable"`
	LookupLayoutable      *bool               `json:"lookupLayoutable"`
	Mergeable             bool                `json:"mergeable"`
	MruEnabled            bool                `json:"mruEnabled"`
	Name                  string              `json:"name"`
	NamedLayoutInfos      []any               `json:"namedLayoutInfos"`
	NetworkScopeFieldName *string             `json:"networkScopeFieldName"`
	Queryable             bool                `json:"queryable"`
	RecordTypeInfos       []recordTypeInfo    `json:"recordTypeInfos"`
	Replicateable         bool                `json:"replicateable"`
	Retrieveable          bool                `json:"retrieveable"`
	SearchLayoutable      bool                `json:"searchLayoutable"`
	Searchable            bool                `json:"searchable"`
	SObjectDescribeOption string              `json:"sobjectDescribeOption"`
	SupportedScopes       []map[string]string `json:"supportedScopes"`
	Triggerable           bool                `json:"triggerable"`
	Undeletable           bool                `json:"undeletable"`
	Updateable            bool                `json:"updateable"`
	URLs                  map[string]string   `json:"urls"`
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) globalEntry(od *objectDef, version string) globalSObject {
	base := "/services/data/v" + version + "/sobjects/" + od.Name
	return globalSObject{
		Createable: true, Custom: od.Custom, Deletable: od.Deletable, FeedEnabled: !od.Custom,
		KeyPrefix: strp(od.KeyPrefix), Label: od.Label, LabelPlural: od.LabelPlural, Layoutable: true,
		Mergeable: od.Name == "Account" || od.Name == "Contact" || od.Name == "Lead", MruEnabled: true,
		Name: od.Name, Queryable: true, Replicateable: true, Retrieveable: true, Searchable: true,
		Triggerable: true, Undeletable: od.Deletable, Updateable: true,
		URLs: urlsGlobal{SObject: base, Describe: base + "/describe", RowTemplate: base + "/{ID}"},
	}
}

// serveDescribeGlobal is GET /sobjects/. Its Last-Modified is the latest
// schema change, and If-Modified-Since gives 304 (SALESFORCE.md 3.2).
func (s *Server) serveDescribeGlobal(w http.ResponseWriter, r *http.Request, version string) {
	o := s.Org
	o.mu.RLock()
	var last time.Time
	out := struct {
		Encoding     string          `json:"encoding"`
		MaxBatchSize int             `json:"maxBatchSize"`
		SObjects     []globalSObject `json:"sobjects"`
	}{Encoding: "UTF-8", MaxBatchSize: 200}
	for _, od := range o.objects {
		out.SObjects = append(out.SObjects, s.globalEntry(od, version))
		if od.lastModified.After(last) {
			last = od.lastModified
		}
	}
	o.mu.RUnlock()
	if notModified(w, r, last) {
		return
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

// serveSObjectInfo is GET /sobjects/X: the object's basic information.
func (s *Server) serveSObjectInfo(w http.ResponseWriter, r *http.Request, version, object string) {
	o := s.Org
	o.mu.RLock()
	od := o.byName[strings.ToLower(object)]
	var out any
	if od != nil {
		out = map[string]any{"objectDescribe": s.globalEntry(od, version), "recentItems": []any{}}
	}
	o.mu.RUnlock()
	if od == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

// notModified answers 304 with no body when the schema did not change
// since If-Modified-Since, and otherwise sets Last-Modified.
func notModified(w http.ResponseWriter, r *http.Request, last time.Time) bool {
	last = last.Truncate(time.Second)
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, ok := parseHTTPDate(ims); ok && !last.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	w.Header().Set("Last-Modified", last.UTC().Format(http.TimeFormat))
	return false
}

// parseHTTPDate also accepts Salesforce's one-digit day ("Wed, 3 Jul 2013
// 19:43:31 GMT").
func parseHTTPDate(s string) (time.Time, bool) {
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	if t, err := time.Parse("Mon, 2 Jan 2006 15:04:05 MST", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// serveDescribe is GET /sobjects/X/describe/.
func (s *Server) serveDescribe(w http.ResponseWriter, r *http.Request, version, object string) {
	o := s.Org
	o.mu.RLock()
	od := o.byName[strings.ToLower(object)]
	if od == nil {
		o.mu.RUnlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	last := od.lastModified
	d := s.describe(od, version)
	o.mu.RUnlock()
	if notModified(w, r, last) {
		return
	}
	b, _ := json.Marshal(d)
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) describe(od *objectDef, version string) describeSObject {
	base := "/services/data/v" + version + "/sobjects/" + od.Name
	g := s.globalEntry(od, version)
	d := describeSObject{
		ActionOverrides: []any{}, ChildRelationships: []childRelationship{}, CompactLayoutable: true,
		Createable: true, Custom: od.Custom, Deletable: od.Deletable, FeedEnabled: g.FeedEnabled,
		KeyPrefix: g.KeyPrefix, Label: od.Label, LabelPlural: od.LabelPlural, Layoutable: true,
		Listviewable: nil, LookupLayoutable: nil, Mergeable: g.Mergeable, MruEnabled: true, Name: od.Name,
		NamedLayoutInfos: []any{}, Queryable: true, Replicateable: true, Retrieveable: true,
		SearchLayoutable: true, Searchable: true, SObjectDescribeOption: "FULL",
		SupportedScopes: []map[string]string{{"label": "All " + strings.ToLower(od.LabelPlural), "name": "everything"}},
		Triggerable:     true, Undeletable: od.Deletable, Updateable: true,
		RecordTypeInfos: []recordTypeInfo{{Active: true, Available: true, DefaultRecordTypeMapping: true,
			DeveloperName: "Master", Master: true, Name: "Master", RecordTypeID: "012000000000000AAA",
			URLs: map[string]string{"layout": base + "/describe/layouts/012000000000000AAA"}}},
		URLs: map[string]string{
			"compactLayouts": base + "/describe/compactLayouts", "rowTemplate": base + "/{ID}",
			"approvalLayouts": base + "/describe/approvalLayouts", "uiDetailTemplate": s.URL + "/{ID}",
			"uiEditTemplate": s.URL + "/{ID}/e", "listviews": base + "/listviews", "describe": base + "/describe",
			"uiNewRecord": s.URL + "/" + od.KeyPrefix + "/e", "quickActions": base + "/quickActions",
			"layouts": base + "/describe/layouts", "sobject": base,
		},
	}
	for _, f := range od.Fields {
		d.Fields = append(d.Fields, describeFieldOf(f))
	}
	for _, child := range s.Org.objects {
		for _, f := range child.Fields {
			if f.Type != "reference" || !containsFold(f.ReferenceTo, od.Name) {
				continue
			}
			d.ChildRelationships = append(d.ChildRelationships, childRelationship{
				ChildSObject: child.Name, Field: f.Name, JunctionIDListNames: []string{},
				JunctionReferenceTo: []string{}, RelationshipName: strp(f.ChildRelationship),
			})
		}
	}
	return d
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func describeFieldOf(f *fieldDef) describeField {
	df := describeField{
		Aggregatable: f.Type != "textarea" && f.Type != "base64" && !f.isCompound() && f.Type != "multipicklist",
		AutoNumber:   f.AutoNumber, ByteLength: f.byteLength(), Calculated: f.Calculated,
		CalculatedFormula: strp(f.Formula), CompoundFieldName: strp(f.CompoundFieldName),
		Createable: f.Createable, Custom: f.Custom, DefaultedOnCreate: f.DefaultedOnCreate || f.Type == "id" || f.Name == "OwnerId",
		Digits: f.Digits, Encrypted: f.Type == "encryptedstring", ExternalID: f.ExternalID,
		ExtraTypeInfo: strp(f.ExtraTypeInfo), Filterable: f.filterable() || f.isCompound(), Groupable: f.groupable(),
		HTMLFormatted: f.ExtraTypeInfo == "richtextarea", IDLookup: f.Type == "id" || f.ExternalID || f.Name == "Username",
		Label: f.Label, Name: f.Name, NameField: f.NameField, Nillable: f.Nillable,
		Permissionable: f.Custom && f.Nillable, PicklistValues: []picklistValue{},
		PolymorphicForeignKey: len(f.ReferenceTo) > 1, Precision: f.Precision,
		ReferenceTo: append([]string{}, f.ReferenceTo...), RelationshipName: strp(f.RelationshipName),
		Scale: f.Scale, SoapType: f.soapType(), Sortable: f.sortable(), Type: f.Type, Unique: f.Unique,
		Updateable: f.Updateable && f.Type != "id", QueryByDistance: f.Type == "location",
	}
	if f.isString() || f.Type == "base64" {
		df.Length = f.Length
	}
	if f.Type == "boolean" {
		df.DefaultValue = false
		df.Nillable = false
	}
	if f.Type == "location" {
		df.DisplayLocationInDecimal = true
	}
	if f.Type == "encryptedstring" {
		df.Mask, df.MaskType = strp("X"), strp("all")
	}
	for i, v := range f.Picklist {
		df.PicklistValues = append(df.PicklistValues, picklistValue{Active: true, DefaultValue: i == 0 && f.Type == "picklist" && f.Required,
			Label: v, Value: v})
	}
	if f.Type == "reference" && len(f.ReferenceTo) > 1 {
		df.NamePointing = true
	}
	return df
}
