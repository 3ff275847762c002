package sftest

import (
	"math"
	"strings"
	"time"
)

// Field constructors for the schema below.

func str(name string, length int) *fieldDef {
	return &fieldDef{Name: name, Type: "string", Length: length, Nillable: true}
}
func typed(name, typ string) *fieldDef { return &fieldDef{Name: name, Type: typ, Nillable: true} }
func pick(name string, values ...string) *fieldDef {
	return &fieldDef{Name: name, Type: "picklist", Nillable: true, Picklist: values}
}
func ref(name, rel, child string, to ...string) *fieldDef {
	return &fieldDef{Name: name, Type: "reference", Nillable: true, ReferenceTo: to,
		RelationshipName: rel, ChildRelationship: child}
}
func num(name, typ string, precision, scale int) *fieldDef {
	return &fieldDef{Name: name, Type: typ, Nillable: true, Precision: precision, Scale: scale}
}
func custom(f *fieldDef) *fieldDef { f.Custom = true; return f }
func required(f *fieldDef) *fieldDef {
	f.Nillable, f.Required = false, true
	return f
}

// auditFields are the system fields every object has, after its own.
func auditFields() []*fieldDef {
	created := &fieldDef{Name: "CreatedDate", Type: "datetime", Label: "Created Date"}
	createdBy := ref("CreatedById", "CreatedBy", "", "User")
	createdBy.Nillable = false
	mod := &fieldDef{Name: "LastModifiedDate", Type: "datetime", Label: "Last Modified Date"}
	modBy := ref("LastModifiedById", "LastModifiedBy", "", "User")
	modBy.Nillable = false
	stamp := &fieldDef{Name: "SystemModstamp", Type: "datetime", Label: "System Modstamp"}
	return []*fieldDef{created, createdBy, mod, modBy, stamp}
}

func idField() *fieldDef {
	return &fieldDef{Name: "Id", Type: "id", Label: "Record ID",
		compute: func(o *objectDef, r *record, now time.Time) any { return r.id },
		appendJSON: func(b []byte, o *objectDef, r *record, now time.Time) []byte {
			b = append(b, '"')
			b = append(b, r.id...)
			return append(b, '"')
		}}
}
func isDeleted() *fieldDef {
	return &fieldDef{Name: "IsDeleted", Type: "boolean", Label: "Deleted",
		compute: func(o *objectDef, r *record, now time.Time) any { return r.deleted }}
}
func owner() *fieldDef {
	f := ref("OwnerId", "Owner", "", "User")
	f.Nillable, f.DefaultedOnCreate = false, true
	return f
}

// personName is the Name field of Contact, Lead and User: FirstName and
// LastName joined (their compoundFieldName is Name).
func personName() *fieldDef {
	return &fieldDef{Name: "Name", Type: "string", Length: 121, Label: "Full Name", NameField: true,
		compute: func(o *objectDef, r *record, now time.Time) any {
			first, _ := r.get(o.byName["firstname"], o, now).(string)
			last, _ := r.get(o.byName["lastname"], o, now).(string)
			return strings.TrimSpace(first + " " + last)
		}}
}

// daysSince is a formula field: whole days from CreatedDate to now. Its
// value changes with the clock while SystemModstamp stays, as formula
// fields do in Salesforce.
func daysSince(name string) *fieldDef {
	return &fieldDef{Name: name, Type: "double", Precision: 18, Scale: 0, Nillable: true, Custom: true,
		Calculated: true, Formula: "TODAY() - DATEVALUE(CreatedDate)",
		compute: func(o *objectDef, r *record, now time.Time) any {
			days, ok := daysFrom(o, r, now)
			if !ok {
				return nil
			}
			return days
		},
		appendJSON: func(b []byte, o *objectDef, r *record, now time.Time) []byte {
			days, ok := daysFrom(o, r, now)
			if !ok {
				return append(b, "null"...)
			}
			return appendDouble(b, days)
		}}
}

func daysFrom(o *objectDef, r *record, now time.Time) (float64, bool) {
	c, ok := r.get(o.createdDate, o, now).(time.Time)
	return math.Floor(now.Sub(c).Hours() / 24), ok
}

var (
	industries = []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
		"Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment",
		"Environmental", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance",
		"Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping",
		"Technology", "Telecommunications", "Transportation", "Utilities", "Other"}
	leadSources = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	ratings     = []string{"Hot", "Warm", "Cold"}
	salutations = []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."}
)

// standardSchema returns the objects of a new org, in describeGlobal order.
func standardSchema() []*objectDef {
	var objs []*objectDef
	def := func(name, label, plural, prefix string, custom bool, fields ...[]*fieldDef) *objectDef {
		o := &objectDef{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix, Custom: custom,
			Deletable: true, byName: map[string]*fieldDef{}, rels: map[string]*fieldDef{}, byID: map[string]*record{}}
		for _, fs := range fields {
			for _, f := range fs {
				o.addField(f)
			}
		}
		objs = append(objs, o)
		return o
	}
	l := func(fs ...*fieldDef) []*fieldDef { return fs }

	acctName := required(str("Name", 255))
	acctName.NameField, acctName.Label = true, "Account Name"
	photo := &fieldDef{Name: "PhotoUrl", Type: "url", Nillable: true, Length: 255,
		compute: func(o *objectDef, r *record, now time.Time) any { return "/services/images/photo/" + r.id },
		appendJSON: func(b []byte, o *objectDef, r *record, now time.Time) []byte {
			b = append(b, `"/services/images/photo/`...)
			b = append(b, r.id...)
			return append(b, '"')
		}}
	def("Account", "Account", "Accounts", "001", false,
		l(idField(), isDeleted(), ref("MasterRecordId", "MasterRecord", "", "Account"), acctName,
			pick("Type", "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
				"Installation Partner", "Technology Partner", "Other"),
			ref("ParentId", "Parent", "ChildAccounts", "Account")),
		addressFields("Billing"), addressFields("Shipping"),
		l(typed("Phone", "phone"), typed("Fax", "phone"), str("AccountNumber", 40), typed("Website", "url"),
			photo, str("Sic", 20), pick("Industry", industries...), num("AnnualRevenue", "currency", 18, 0),
			&fieldDef{Name: "NumberOfEmployees", Type: "int", Digits: 8, Nillable: true},
			pick("Ownership", "Public", "Private", "Subsidiary", "Other"), str("TickerSymbol", 20),
			typed("Description", "textarea"), pick("Rating", ratings...), str("Site", 80), owner()),
		auditFields(),
		l(typed("LastActivityDate", "date"), typed("LastViewedDate", "datetime"),
			typed("LastReferencedDate", "datetime"), str("Jigsaw", 20), str("JigsawCompanyId", 20),
			pick("AccountSource", leadSources...), str("SicDesc", 80),
			custom(pick("Tier__c", "Platinum", "Gold", "Silver", "Bronze")),
			custom(typed("Customer_Since__c", "date")),
			custom(pick("SLA__c", "Gold", "Silver", "Platinum", "Bronze")),
			custom(typed("SLAExpirationDate__c", "date")),
			custom(str("SLASerialNumber__c", 10)),
			custom(num("NumberofLocations__c", "double", 3, 0)),
			custom(pick("UpsellOpportunity__c", "Maybe", "No", "Yes")),
			custom(pick("Active__c", "No", "Yes")),
			daysSince("Account_Age_Days__c")))

	contactLast := required(str("LastName", 80))
	contactLast.CompoundFieldName = "Name"
	first := func() *fieldDef { f := str("FirstName", 40); f.CompoundFieldName = "Name"; return f }
	sal := func() *fieldDef { f := pick("Salutation", salutations...); f.CompoundFieldName = "Name"; return f }
	def("Contact", "Contact", "Contacts", "003", false,
		l(idField(), isDeleted(), ref("MasterRecordId", "MasterRecord", "", "Contact"),
			ref("AccountId", "Account", "Contacts", "Account"), contactLast, first(), sal(), personName()),
		addressFields("Mailing"),
		l(typed("Phone", "phone"), typed("Fax", "phone"), typed("MobilePhone", "phone"), typed("Email", "email"),
			str("Title", 128), str("Department", 80), typed("Birthdate", "date"), typed("Description", "textarea"),
			pick("LeadSource", leadSources...), owner(),
			&fieldDef{Name: "HasOptedOutOfEmail", Type: "boolean", DefaultedOnCreate: true},
			&fieldDef{Name: "DoNotCall", Type: "boolean", DefaultedOnCreate: true}),
		auditFields(), l(typed("LastActivityDate", "date")))

	stages := []string{"Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
		"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}
	oppName := required(str("Name", 120))
	oppName.NameField = true
	def("Opportunity", "Opportunity", "Opportunities", "006", false,
		l(idField(), isDeleted(), ref("AccountId", "Account", "Opportunities", "Account"), oppName,
			typed("Description", "textarea"), required(pick("StageName", stages...)),
			num("Amount", "currency", 18, 2), num("Probability", "percent", 3, 0),
			required(typed("CloseDate", "date")), pick("Type", "Existing Customer - Upgrade",
				"Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"),
			str("NextStep", 255), pick("LeadSource", leadSources...),
			&fieldDef{Name: "IsClosed", Type: "boolean", DefaultedOnCreate: true},
			&fieldDef{Name: "IsWon", Type: "boolean", DefaultedOnCreate: true},
			pick("ForecastCategoryName", "Omitted", "Pipeline", "Best Case", "Commit", "Closed"), owner()),
		auditFields(),
		l(&fieldDef{Name: "FiscalQuarter", Type: "int", Digits: 11, Nillable: true},
			&fieldDef{Name: "FiscalYear", Type: "int", Digits: 4, Nillable: true}))

	leadLast := required(str("LastName", 80))
	leadLast.CompoundFieldName = "Name"
	def("Lead", "Lead", "Leads", "00Q", false,
		l(idField(), isDeleted(), leadLast, first(), sal(), personName(), str("Title", 128),
			required(str("Company", 255))),
		addressFields(""),
		l(typed("Phone", "phone"), typed("MobilePhone", "phone"), typed("Email", "email"), typed("Website", "url"),
			typed("Description", "textarea"), pick("LeadSource", leadSources...),
			required(pick("Status", "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")),
			pick("Industry", industries...), pick("Rating", ratings...), num("AnnualRevenue", "currency", 18, 0),
			&fieldDef{Name: "NumberOfEmployees", Type: "int", Digits: 8, Nillable: true}, owner(),
			&fieldDef{Name: "IsConverted", Type: "boolean", DefaultedOnCreate: true}, typed("ConvertedDate", "date"),
			ref("ConvertedAccountId", "ConvertedAccount", "", "Account"),
			ref("ConvertedContactId", "ConvertedContact", "", "Contact"),
			ref("ConvertedOpportunityId", "ConvertedOpportunity", "", "Opportunity"),
			&fieldDef{Name: "IsUnreadByOwner", Type: "boolean", DefaultedOnCreate: true}),
		auditFields())

	caseNumber := &fieldDef{Name: "CaseNumber", Type: "string", Length: 30, AutoNumber: true, NameField: true}
	def("Case", "Case", "Cases", "500", false,
		l(idField(), isDeleted(), caseNumber, ref("ContactId", "Contact", "Cases", "Contact"),
			ref("AccountId", "Account", "Cases", "Account"), str("SuppliedName", 80), typed("SuppliedEmail", "email"),
			str("SuppliedPhone", 40), pick("Type", "Mechanical", "Electrical", "Electronic", "Structural", "Other"),
			pick("Status", "New", "Working", "Escalated", "Closed"),
			pick("Reason", "Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design",
				"Feedback", "Other"),
			pick("Origin", "Phone", "Email", "Web"), str("Subject", 255), pick("Priority", "High", "Medium", "Low"),
			typed("Description", "textarea"), &fieldDef{Name: "IsClosed", Type: "boolean", DefaultedOnCreate: true},
			typed("ClosedDate", "datetime"), &fieldDef{Name: "IsEscalated", Type: "boolean", DefaultedOnCreate: true},
			owner()),
		auditFields())

	userLast := required(str("LastName", 80))
	userLast.CompoundFieldName = "Name"
	userName := required(str("Username", 80))
	userName.Unique = true
	user := def("User", "User", "Users", "005", false,
		l(idField(), userName, userLast, first(), personName(), str("CompanyName", 80), str("Title", 80),
			required(typed("Email", "email")), required(str("Alias", 8)),
			&fieldDef{Name: "IsActive", Type: "boolean", DefaultedOnCreate: true},
			required(pick("TimeZoneSidKey", "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney")),
			pick("UserType", "Standard", "PowerPartner", "CsnOnly", "Guest"),
			ref("ManagerId", "Manager", "ManagedUsers", "User")),
		auditFields(), l(typed("LastLoginDate", "datetime")))
	user.Deletable = false

	task := def("Task", "Task", "Tasks", "00T", false,
		l(idField(), ref("WhoId", "Who", "Tasks", "Contact", "Lead"),
			ref("WhatId", "What", "Tasks", "Account", "Opportunity", "Case", "Invoice__c"),
			&fieldDef{Name: "Subject", Type: "combobox", Nillable: true, Picklist: []string{"Call", "Send Letter", "Send Quote", "Other"}},
			typed("ActivityDate", "date"), required(pick("Status", "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")),
			required(pick("Priority", "High", "Normal", "Low")), owner(), typed("Description", "textarea"),
			isDeleted(), ref("AccountId", "Account", "", "Account"),
			&fieldDef{Name: "IsClosed", Type: "boolean", DefaultedOnCreate: true}),
		auditFields(),
		l(&fieldDef{Name: "IsArchived", Type: "boolean", DefaultedOnCreate: true},
			&fieldDef{Name: "CallDurationInSeconds", Type: "int", Digits: 8, Nillable: true},
			pick("TaskSubtype", "Task", "Email", "ListEmail", "Cadence", "Call"), typed("CompletedDateTime", "datetime")))
	for _, n := range []string{"WhoId", "WhatId"} {
		task.field(n).ChildRelationship = "Tasks"
	}

	invName := required(str("Name", 80))
	invName.NameField, invName.Label = true, "Invoice Name"
	tags := &fieldDef{Name: "Tags__c", Type: "multipicklist", Nillable: true, Custom: true,
		Picklist: []string{"Urgent", "Disputed", "Recurring", "Export", "Partner"}}
	notes := custom(typed("Notes__c", "textarea"))
	notes.Length, notes.ExtraTypeInfo = 131072, "plaintextarea"
	summary := custom(typed("Summary__c", "textarea"))
	summary.Length, summary.ExtraTypeInfo = 255, "plaintextarea"
	rich := custom(typed("Rich_Notes__c", "textarea"))
	rich.Length, rich.ExtraTypeInfo = 32768, "richtextarea"
	extKey := custom(str("External_Key__c", 40))
	extKey.ExternalID, extKey.Unique = true, true
	tax := custom(typed("Tax_ID__c", "encryptedstring"))
	tax.Length = 175
	attach := custom(typed("Attachment__c", "base64"))
	attach.Length = 32000
	def("Invoice__c", "Invoice", "Invoices", "a01", true,
		l(idField(), owner(), isDeleted(), invName),
		auditFields(),
		l(typed("LastActivityDate", "date"), typed("LastViewedDate", "datetime"), typed("LastReferencedDate", "datetime"),
			custom(ref("Account__c", "Account__r", "Invoices__r", "Account")),
			custom(pick("Status__c", "Draft", "Sent", "Paid", "Overdue", "Void")), tags, notes, summary, rich,
			&fieldDef{Name: "Paid__c", Type: "boolean", Custom: true, DefaultedOnCreate: true},
			custom(num("Amount__c", "currency", 16, 2)),
			&fieldDef{Name: "Quantity__c", Type: "int", Custom: true, Digits: 9, Nillable: true},
			custom(num("Rate__c", "double", 18, 6)), custom(num("Discount__c", "percent", 5, 2)),
			custom(typed("Contact_Phone__c", "phone")), custom(typed("Due_Date__c", "date")),
			custom(typed("Sent_At__c", "datetime")), custom(typed("Reminder_Time__c", "time")),
			custom(typed("Portal_URL__c", "url")), custom(typed("Billing_Email__c", "email")), tax, attach, extKey),
		locationFields("Location__c"),
		l(daysSince("Days_Open__c")))

	shipName := required(str("Name", 80))
	shipName.NameField = true
	def("acme__Shipment__c", "Shipment", "Shipments", "a02", true,
		l(idField(), owner(), isDeleted(), shipName),
		auditFields(),
		l(custom(ref("acme__Invoice__c", "acme__Invoice__r", "acme__Shipments__r", "Invoice__c")),
			custom(pick("acme__Carrier__c", "UPS", "FedEx", "DHL", "USPS", "Other")),
			custom(str("acme__Tracking__c", 60)), custom(typed("acme__Shipped__c", "datetime")),
			custom(num("acme__Weight__c", "double", 10, 3))),
		locationFields("acme__Location__c"))
	return objs
}
