package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// status is what GET / shows and GET /api/status returns.
type status struct {
	Now      time.Time   `json:"now"`
	Uptime   string      `json:"uptime"`
	Demo     bool        `json:"demo"`
	Orgs     []orgStatus `json:"orgs"`
	Running  []jobJSON   `json:"running"`
	Recent   []jobJSON   `json:"recentJobs"`
	Webhooks webhookView `json:"webhooks"`
	Errors   []errorView `json:"recentErrors"`
}

type orgStatus struct {
	OrgID       string         `json:"orgId"`
	Username    string         `json:"username"`
	InstanceURL string         `json:"instanceUrl"`
	Status      string         `json:"status"`
	Objects     []objectStatus `json:"objects"`
	Rows        int64          `json:"rows"`
}

type objectStatus struct {
	Name         string     `json:"name"`
	Label        string     `json:"label"`
	Custom       bool       `json:"custom"`
	Rows         int64      `json:"rows"`
	Deleted      int64      `json:"deleted"`
	Fields       int        `json:"fields"`
	CustomFields int        `json:"customFields"`
	LastSync     *time.Time `json:"lastSync,omitempty"`
	Watermark    *time.Time `json:"watermark,omitempty"`
	Resumable    bool       `json:"resumable"` // a full extract stopped at a checkpoint
}

type webhookView struct {
	Messages      int64      `json:"messages"`
	Notifications int64      `json:"notifications"`
	Direct        int64      `json:"direct"`
	Reread        int64      `json:"reread"`
	Failed        int64      `json:"failed"`
	Last          *time.Time `json:"last,omitempty"`
}

type errorView struct {
	At     time.Time `json:"at"`
	OrgID  string    `json:"orgId,omitempty"`
	Source string    `json:"source"`
	JobID  string    `json:"jobId,omitempty"`
	Text   string    `json:"text"`
}

func (a *app) status(ctx context.Context) (*status, error) {
	s := &status{Now: time.Now().UTC(), Uptime: time.Since(a.started).Round(time.Second).String(), Demo: a.demo != nil,
		Orgs: []orgStatus{}, Running: []jobJSON{}, Recent: []jobJSON{}, Errors: []errorView{}}
	conns, err := a.mgr.Connections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		o := orgStatus{OrgID: c.OrgID, Username: c.Username, InstanceURL: c.InstanceURL, Status: string(c.Status),
			Objects: []objectStatus{}}
		if o.Status == "" {
			o.Status = string(store.StatusActive)
		}
		metas, err := a.st.ObjectMetas(ctx, c.OrgID)
		if err != nil {
			return nil, err
		}
		for _, m := range metas {
			os, err := a.objectStatus(ctx, c.OrgID, m)
			if err != nil {
				return nil, err
			}
			o.Rows += os.Rows
			o.Objects = append(o.Objects, os)
		}
		s.Orgs = append(s.Orgs, o)
	}
	live := map[string]bool{}
	for _, j := range a.sync.Running() {
		live[j.ID] = true
		s.Running = append(s.Running, jobView(j))
	}
	// Jobs of other instances sharing the database, from their records.
	for _, st := range []store.JobState{store.JobRunning, store.JobQueued} {
		jobs, err := a.st.Jobs(ctx, store.JobFilter{State: st, Limit: 20})
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			if !live[j.ID] {
				live[j.ID] = true
				s.Running = append(s.Running, jobView(j))
			}
		}
	}
	recent, err := a.st.Jobs(ctx, store.JobFilter{Limit: 10})
	if err != nil {
		return nil, err
	}
	for _, j := range recent {
		s.Recent = append(s.Recent, jobView(j))
	}
	st := a.sync.Stats()
	s.Webhooks = webhookView{Messages: st.Messages, Notifications: st.Notifications, Direct: st.Direct,
		Reread: st.Reread, Failed: st.Failed, Last: timePtr(st.LastMessageAt)}
	for _, e := range st.RecentErrors {
		s.Errors = append(s.Errors, errorView(e))
	}
	return s, nil
}

func (a *app) objectStatus(ctx context.Context, org string, m store.ObjectMeta) (objectStatus, error) {
	os := objectStatus{Name: m.Name, Label: m.Label, Custom: m.Custom, Fields: len(m.Fields)}
	for _, f := range m.Fields {
		if f.Custom {
			os.CustomFields++
		}
	}
	n, err := a.st.Count(ctx, org, m.Name, false)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return os, err
	}
	all, _ := a.st.Count(ctx, org, m.Name, true)
	os.Rows, os.Deleted = n, all-n
	ss, err := a.st.SyncState(ctx, org, m.Name)
	if err != nil {
		return os, err
	}
	os.LastSync, os.Watermark = timePtr(ss.UpdatedAt), timePtr(ss.Watermark)
	os.Resumable = ss.Checkpoint != ""
	return os, nil
}

func (a *app) statusJSON(w http.ResponseWriter, r *http.Request) {
	s, err := a.status(r.Context())
	if err != nil {
		a.log.WarnContext(r.Context(), "status", "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the status")
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *app) statusPage(w http.ResponseWriter, r *http.Request) {
	s, err := a.status(r.Context())
	if err != nil {
		a.log.WarnContext(r.Context(), "status", "err", err)
		http.Error(w, "could not read the status", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	if err := page.Execute(w, s); err != nil {
		a.log.WarnContext(r.Context(), "render status", "err", err)
	}
}

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return time.Since(*t).Round(time.Second).String() + " ago"
	},
	"when": func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"pct": func(done, total int64) string {
		if total <= 0 {
			return ""
		}
		return fmt.Sprintf("(%.0f%%)", min(100, float64(done)/float64(total)*100))
	},
}).Parse(statusHTML))

const statusHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>sfsync status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.state-running{color:#06c}.state-failed{color:#b00}.state-paused{color:#a60}.state-succeeded{color:#080}
.muted{color:#777}
</style></head><body>
<h1>sfsync</h1>
<p class="muted">Refreshes every 5 seconds. Up {{.Uptime}}{{if .Demo}}; demo mode (a fake org runs in this process){{end}}.
<a href="/connect">Connect an org</a> &middot; <a href="/api/status">JSON</a></p>

<h2>Connected orgs</h2>
{{if not .Orgs}}<p id="no-orgs">No org is connected yet. <a href="/connect">Connect one</a>.</p>{{end}}
{{range .Orgs}}
<section class="org" id="org-{{.OrgID}}">
<h3>{{.Username}} <span class="muted">org {{.OrgID}}</span></h3>
<p>State: <strong class="org-state">{{.Status}}</strong> &middot; {{.InstanceURL}} &middot; {{.Rows}} rows</p>
<form method="post" action="/salesforce-sync">
<input type="hidden" name="orgId" value="{{.OrgID}}">
<button name="mode" value="incremental">Sync now</button>
<button name="mode" value="full">Full sync</button>
</form>
<table><thead><tr><th>Object</th><th>Rows</th><th>Deleted</th><th>Fields</th><th>Custom fields</th><th>Last sync</th><th>Watermark</th></tr></thead><tbody>
{{range .Objects}}<tr><td>{{.Name}}{{if .Resumable}} <span class="state-paused">(resumable)</span>{{end}}</td><td class="n">{{.Rows}}</td><td class="n">{{.Deleted}}</td><td class="n">{{.Fields}}</td><td class="n">{{.CustomFields}}</td><td>{{ago .LastSync}}</td><td>{{when .Watermark}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">Nothing synced yet.</td></tr>{{end}}
</tbody></table>
</section>
{{end}}

<h2>Running jobs</h2>
{{if not .Running}}<p class="muted">None.</p>{{end}}
{{range .Running}}
<p><a href="{{.URL}}">{{.ID}}</a> {{.Mode}} <span class="state-{{.State}}">{{.State}}</span></p>
<table><thead><tr><th>Object</th><th>Phase</th><th>Done</th><th>Total</th><th>Deleted</th></tr></thead><tbody>
{{range .Progress}}<tr><td>{{.Object}}</td><td>{{.Phase}}</td><td class="n">{{.Done}}</td><td class="n">{{.Total}} {{pct .Done .Total}}</td><td class="n">{{.Deleted}}</td></tr>{{end}}
</tbody></table>
{{end}}

<h2>Webhooks</h2>
<p>{{.Webhooks.Messages}} messages, {{.Webhooks.Notifications}} notifications applied ({{.Webhooks.Direct}} from the message, {{.Webhooks.Reread}} read again by Id), {{.Webhooks.Failed}} failed. Last: {{ago .Webhooks.Last}}.</p>

<h2>Recent jobs</h2>
<table><thead><tr><th>Job</th><th>Org</th><th>Mode</th><th>State</th><th>Started</th><th>Finished</th><th>Error</th></tr></thead><tbody>
{{range .Recent}}<tr><td><a href="{{.URL}}">{{.ID}}</a></td><td>{{.OrgID}}</td><td>{{.Mode}}</td><td class="state-{{.State}}">{{.State}}</td><td>{{when .StartedAt}}</td><td>{{when .FinishedAt}}</td><td>{{.Error}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">No jobs yet.</td></tr>{{end}}
</tbody></table>

<h2>Recent errors</h2>
{{if not .Errors}}<p class="muted">None.</p>{{end}}
<ul>{{range .Errors}}<li>{{.At.Format "15:04:05Z"}} {{.Source}} {{.OrgID}} {{.JobID}}: {{.Text}}</li>{{end}}</ul>
</body></html>
`
