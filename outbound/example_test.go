package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/sfsync/salesforce-sync/outbound"
)

func ExampleDecode() {
	f, err := os.Open("../../shared/fixtures/salesforce/outbound/om_contact_2notifications_aspnetcore.xml")
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
	f, err := os.Open("../../shared/fixtures/salesforce/outbound/wsdl_ObjectToBeRemoved__c.wsdl")
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

func ExampleHandler() {
	acts := outbound.Actions{}
	acts.Add("04k57000000TOUIAA4", outbound.Action{Object: "Account", Fields: []string{"Name", "SystemModstamp"}})
	h := &outbound.Handler{
		Verify: outbound.StaticVerify([]string{"00DD0000000muCUMAY"}, acts),
		Applied: func(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
			return nil, nil // look the receipts up in the store
		},
		Apply: func(ctx context.Context, m *outbound.Message) error {
			return nil // upsert the rows and record the receipts in one transaction
		},
		PathToken: "3f9c0a...long-random-token",
	}
	http.Handle("POST /webhook/", h)
}
