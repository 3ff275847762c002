package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/sfsync/salesforce-sync/outbound"
)

// loadOutbound reads the Outbound Message field lists of -outbound-fields
// and -outbound-wsdl: by action ID where one is given, else by object.
func loadOutbound(cfg *config) (map[string]outbound.Action, map[string][]string, error) {
	actions := map[string]outbound.Action{}
	byObject := map[string][]string{}
	for _, v := range cfg.outboundFields {
		id, rest := splitAction(v)
		object, list, ok := strings.Cut(rest, ":")
		object = strings.TrimSpace(object)
		if !ok || object == "" {
			return nil, nil, fmt.Errorf("-outbound-fields %q: want [ACTIONID=]Object:Field,Field", v)
		}
		var fields []string
		for f := range strings.SplitSeq(list, ",") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		add(actions, byObject, id, outbound.Action{Object: object, Fields: fields})
	}
	for _, v := range cfg.outboundWSDL {
		id, path := splitAction(v)
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("-outbound-wsdl: %w", err)
		}
		a, err := outbound.ParseWSDL(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("-outbound-wsdl %s: %w", path, err)
		}
		add(actions, byObject, id, *a)
	}
	return actions, byObject, nil
}

func add(actions map[string]outbound.Action, byObject map[string][]string, id string, a outbound.Action) {
	if id != "" {
		actions[id] = a
		return
	}
	byObject[a.Object] = a.Fields
}

// splitAction splits "04k...=rest" into the action ID and the rest; a
// value without an action ID prefix returns "" and the value.
func splitAction(v string) (id, rest string) {
	before, after, ok := strings.Cut(v, "=")
	if ok && strings.HasPrefix(before, "04k") && (len(before) == 15 || len(before) == 18) {
		return before, after
	}
	return "", v
}
