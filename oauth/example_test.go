package oauth_test

import (
	"fmt"

	"github.com/sfsync/salesforce-sync/oauth"
)

func ExampleNormalizeOrgID() {
	id, err := oauth.NormalizeOrgID("00De0000000pmu1")
	fmt.Println(id, err)
	// Output: 00De0000000pmu1EAA <nil>
}

func ExampleSecret() {
	tok := oauth.Secret("00Dx0000000BV7z!AR8AQ")
	fmt.Println(tok, len(tok.Reveal()))
	// Output: [redacted] 21
}
