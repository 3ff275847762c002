package rest

import (
	"encoding/json"
	"io"
)

func jsonNumber(s string) json.Number { return json.Number(s) }

var errEOF = io.EOF
