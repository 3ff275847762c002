package outbound_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/sfsync/salesforce-sync/outbound"
)

func ExampleDecode() {
	f, err := os.Open("../testdata/fixtures/salesforce/outbound/om_contact_2notifications_aspnetcore.xml")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	m, err := outbound.Decode(f)
	if err != nil {
		panic(err)
	}
	for _, n := range m.Notifications {
		email, present, _ := n.SObject.Get("Email")
		fmt.Println(n.ID, n.SObject.Type, n.SObject.ID(), email, present)
	}
	fmt.Println("session:", *m.SessionID)
	// Output:
	// 04l1I000000fztEQAQ Contact 0031I0000081tbPQAQ  false
	// 04l1I000000fzt9QAA Contact 0031I0000081tb0QAA drb24@cornell.edu true
	// session: [redacted]
}

func ExampleParseWSDL() {
	f, err := os.Open("../testdata/fixtures/salesforce/outbound/wsdl_ObjectToBeRemoved__c.wsdl")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	acts := outbound.Actions{}
	a, err := acts.AddWSDL("04k57000000TOUIAA4", f)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Object, strings.Join(a.Fields, ","))
	// Output: ObjectToBeRemoved__c Id,ObjectClass__c,ObjectId__c
}

// A Handler that accepts one org and one action, applies each
// notification once, and acknowledges only after Apply returned nil.
func ExampleHandler() {
	acts := outbound.Actions{}
	acts.Add("04k1I000000bmsHQAQ", outbound.Action{Object: "Contact", Fields: []string{"Email", "LastName"}})
	var mu sync.Mutex
	receipts := map[string]bool{} // in production: a table written with the rows
	h := &outbound.Handler{
		Verify: outbound.StaticVerify([]string{"00De0000000pmu1EAA"}, acts),
		Applied: func(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
			mu.Lock()
			defer mu.Unlock()
			done := map[string]bool{}
			for _, id := range ids {
				done[id] = receipts[id]
			}
			return done, nil
		},
		Apply: func(ctx context.Context, m *outbound.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range m.Notifications { // upsert the rows and record the receipts in one transaction
				fmt.Println("apply", n.ID, n.SObject.Type, n.SObject.ID())
				receipts[n.ID] = true
			}
			return nil
		},
		PathToken: "3f9c0a7d1e", // use 32 random bytes
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	msg := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00De0000000pmu1</OrganizationId>
   <ActionId>04k1I000000bmsHQAQ</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/62.0/00De0000000pmu1</EnterpriseUrl>
   <PartnerUrl>https://x.my.salesforce.com/services/Soap/u/62.0/00De0000000pmu1</PartnerUrl>
   <Notification>
    <Id>04l1I000000fzt9QAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0031I0000081tb0QAA</sf:Id>
     <sf:Email>ada@example.com</sf:Email>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`
	for _, path := range []string{"/webhook/3f9c0a7d1e", "/webhook/3f9c0a7d1e", "/webhook/guess"} {
		resp, err := http.Post(srv.URL+path, "text/xml; charset=utf-8", strings.NewReader(msg))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.Contains(string(body), "<Ack>true</Ack>"))
	}
	// Output:
	// apply 04l1I000000fzt9QAA Contact 0031I0000081tb0QAA
	// 200 true
	// 200 true
	// 404 false
}

// The JSON form of a message: fields in message order, values strings or
// null, the session id redacted.
func ExampleMessage_MarshalJSON() {
	name := "Acme"
	sid := outbound.Secret("00De0000000pmu1!AQ4AQ")
	m := outbound.Message{
		OrganizationID: "00De0000000pmu1EAA", ActionID: "04k1I000000bmsHQAQ", SessionID: &sid,
		Notifications: []outbound.Notification{{ID: "04l1I000000fzt9QAA", SObject: outbound.SObject{
			Type: "Account",
			Fields: []outbound.Field{
				{Name: "Id", Value: &[]string{"0011I000007Q4VbQAK"}[0]},
				{Name: "Name", Value: &name},
				{Name: "Tier__c"},
			},
		}}},
	}
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
	// Output:
	// {"organizationId":"00De0000000pmu1EAA","actionId":"04k1I000000bmsHQAQ","sessionId":"[redacted]","enterpriseUrl":"","partnerUrl":"","notifications":[{"id":"04l1I000000fzt9QAA","sObject":{"type":"Account","fields":{"Id":"0011I000007Q4VbQAK","Name":"Acme","Tier__c":null}}}]}
}
