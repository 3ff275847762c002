package sfsync_test

import (
	"context"
	"fmt"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// Example syncs two objects of a (fake) org into a Store. With a real
// org, the connection comes from oauth.Manager's /connect and /callback
// handlers instead of Save.
func Example() {
	ctx := context.Background()
	org := sftest.NewServer(sftest.Options{Records: 5})
	defer org.Close()

	st := memory.New()
	defer st.Close()
	key, _ := oauth.GenerateKey("k1") // keep a real key in a secret store
	sealer, _ := oauth.NewSealer(key)
	mgr := oauth.NewManager(oauth.Config{ClientID: org.ClientID(), ClientSecret: org.ClientSecret(), LoginURL: org.URL}, st, sealer)
	access, refresh := org.NewSession()
	if err := mgr.Save(ctx, &oauth.Connection{OrgID: org.Org.ID(), InstanceURL: org.URL,
		AccessToken: oauth.Secret(access), RefreshToken: oauth.Secret(refresh)}); err != nil {
		fmt.Println(err)
		return
	}

	s, err := sfsync.New(sfsync.Config{Store: st, Connections: mgr, Objects: []string{"Account", "Invoice__c"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	job, err := s.Sync(ctx, sfsync.Request{OrgID: org.Org.ID()}) // full: nothing synced yet
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(job.State)
	for _, p := range job.Progress {
		n, _ := st.Count(ctx, org.Org.ID(), p.Object, false)
		fmt.Println(p.Object, p.Phase, n)
	}
	// Output:
	// succeeded
	// Account done 5
	// Invoice__c done 5
}
