package rest

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Limits is the daily API usage from a Sforce-Limit-Info header
// (SALESFORCE.md 2.1): Used calls of Max in the rolling 24 hours, as seen
// At (local time). The zero value means no header was seen.
type Limits struct {
	Used, Max int
	At        time.Time
}

// Share is Used/Max, or 0 when Max is unknown.
func (l Limits) Share() float64 {
	if l.Max <= 0 {
		return 0
	}
	return float64(l.Used) / float64(l.Max)
}

var errNoAPIUsage = errors.New("no api-usage entry")

// ParseLimitInfo reads the api-usage entry of a Sforce-Limit-Info header
// such as "api-usage=25/15000; per-app-api-usage=17/250(appName=x)". Other
// entries are ignored. At is left zero. It returns an error when the
// header has no well-formed api-usage entry.
func ParseLimitInfo(h string) (Limits, error) {
	for part := range strings.SplitSeq(h, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "api-usage") {
			continue
		}
		used, max, ok := strings.Cut(strings.TrimSpace(v), "/")
		if !ok {
			return Limits{}, errors.New("malformed api-usage " + strconv.Quote(v))
		}
		u, err1 := strconv.Atoi(strings.TrimSpace(used))
		m, err2 := strconv.Atoi(strings.TrimSpace(max))
		if err1 != nil || err2 != nil || u < 0 || m < 0 {
			return Limits{}, errors.New("malformed api-usage " + strconv.Quote(v))
		}
		return Limits{Used: u, Max: m}, nil
	}
	return Limits{}, errNoAPIUsage
}
