package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func printReport(w io.Writer, r *report) {
	m := r.Machine
	fmt.Fprintf(w, "sfsync bench, %s\n%s/%s, %d CPUs (%s), %s; load average %s before, %s after\n\n",
		m.Date, m.GOOS, m.GOARCH, m.CPUs, m.CPU, m.GoVersion, m.LoadBefore, m.LoadAfter)

	if len(r.Full) > 0 {
		fmt.Fprintf(w, "Full sync of Account (60 fields), fresh store; the fake org in this process holds %.0f MiB of the RSS\n", r.OrgRSSMiB)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "store\tapi\trecords\tcolumns\tseconds\tCPU s\trecords/s\tAPI calls\tpeak RSS MiB\tRSS growth MiB\tbare SQLite records/s\tratio\t")
		for _, x := range r.Full {
			bare, ratio := "-", "-"
			if x.BareRecordsPerSec > 0 {
				bare, ratio = fmt.Sprintf("%.0f", x.BareRecordsPerSec), fmt.Sprintf("%.2f", x.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.0f\t%d\t%.0f\t%.0f\t%s\t%s\t\n", x.Store, x.API, x.Records, x.Fields,
				x.Seconds, x.CPUSeconds, x.RecordsPerSec, x.APICalls, x.PeakRSSMiB, x.RSSGrowthMiB, bare, ratio)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Latency) > 0 {
		fmt.Fprintf(w, "Full sync with %.0f ms latency per request (SQLite); ideal = requests x latency / concurrency (an object is one sequential cursor; objects run in parallel)\n", r.Latency[0].LatencyMS)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "api\tobjects\tconcurrency\trecords\trequests\tseconds\tideal s\ttime/ideal\trecords/s\t")
		for _, x := range r.Latency {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t\n", x.API, x.Objects, x.Concurrency, x.Records, x.Requests, x.Seconds,
				x.IdealSeconds, x.Seconds/x.IdealSeconds, x.RecordsPerSec)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Incremental) > 0 {
		fmt.Fprintln(w, "Incremental sync after changes (REST)")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "store\ttable rows\tchanged\trecords written\tseconds\tCPU s\tAPI calls\tfull sync API calls\t")
		for _, x := range r.Incremental {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.2f\t%d\t%d\t\n", x.Store, x.TableSize, x.Changed, x.Records, x.Seconds, x.CPUSeconds, x.APICalls, x.FullCalls)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Webhook) > 0 {
		fmt.Fprintln(w, "Webhook ingest (Outbound Messages of 100 notifications, SQLite, applied before the ack)")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "senders\tmessages\tnotifications\tseconds\tCPU s\tnotifications/s\tack p50 ms\tack p99 ms\t")
		for _, x := range r.Webhook {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%.2f\t%.0f\t%.1f\t%.1f\t\n", x.Senders, x.Messages, x.Notifications, x.Seconds, x.CPUSeconds,
				x.NotificationsSec, x.P50MS, x.P99MS)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "command: %s\n", r.Command)
}

func printDrills(w io.Writer, rs []drillResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "drill\tresult\tseconds\tdetail")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\n", r.Name, r.Status, r.Seconds, strings.ReplaceAll(r.Detail, "\n", " "))
	}
	tw.Flush()
}
