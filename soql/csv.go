package soql

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// csvReader decodes Bulk API 2.0 result CSV (SALESFORCE.md 4.4): a header
// row of field names, then one row per record, values quoted as RFC 4180
// requires, embedded newlines allowed inside quotes, LF or CRLF line
// endings. An empty value is null: Bulk CSV cannot tell "" from null.
type csvReader struct {
	r      *bufio.Reader
	delim  byte
	header []string
	buf    []byte // the current row
	out    []byte // its unquoted values
	spans  []span
	line   int
	typ    string
}

func newCSVReader(r io.Reader, delim byte, typ string) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, 64<<10), delim: delim, typ: typ}
}

// readHeader reads the header row; io.EOF means an empty body.
func (c *csvReader) readHeader() error {
	row, err := c.readRow()
	if err != nil {
		return err
	}
	row = bytes.TrimPrefix(row, []byte("\ufeff"))
	fs, err := c.split(row, -1)
	if err != nil {
		return err
	}
	c.header = make([]string, len(fs))
	for i, f := range fs {
		name, _ := f.Value.(string)
		if name == "" {
			return fmt.Errorf("%w: csv header column %d is empty", ErrDecode, i+1)
		}
		c.header[i] = name
	}
	return nil
}

// next returns the next record, or io.EOF after the last.
func (c *csvReader) next() (*Record, error) {
	row, err := c.readRow()
	if err != nil {
		return nil, err
	}
	fs, err := c.split(row, len(c.header))
	if err != nil {
		return nil, err
	}
	return &Record{typ: c.typ, fields: fs}, nil
}

// readRow returns the next non-empty row without its line ending; a row
// continues past newlines inside quotes. The bytes are valid until the
// next call.
func (c *csvReader) readRow() ([]byte, error) {
	for {
		c.buf = c.buf[:0]
		quotes := 0
		for {
			chunk, err := c.r.ReadSlice('\n')
			c.buf = append(c.buf, chunk...)
			quotes += bytes.Count(chunk, []byte{'"'})
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if len(c.buf) == 0 {
					return nil, io.EOF
				}
				if quotes%2 != 0 {
					return nil, fmt.Errorf("%w: csv line %d: unterminated quoted value", ErrDecode, c.line+1)
				}
				break
			}
			if err != nil {
				return nil, err
			}
			c.line++
			if quotes%2 == 0 {
				break
			}
		}
		b := c.buf
		if n := len(b); n > 0 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		if len(b) > 0 {
			return b, nil
		}
	}
}

var errCSVColumns = errors.New("wrong number of values")

// span is one value of a row in csvReader.out; null when it was empty.
type span struct {
	start, end int
	null       bool
}

// split cuts one row into values (names left empty): nil for an empty
// value, else a string. The unquoted values of the row are gathered in
// one buffer and converted to one string, so a row costs a few
// allocations whatever its width. want < 0 accepts any count.
func (c *csvReader) split(row []byte, want int) ([]Field, error) {
	out := c.out[:0]
	spans := c.spans[:0]
	i := 0
	for {
		st := len(out)
		if i < len(row) && row[i] == '"' {
			i++
			for {
				k := bytes.IndexByte(row[i:], '"')
				if k < 0 {
					return nil, fmt.Errorf("%w: csv line %d: unterminated quoted value", ErrDecode, c.line)
				}
				out = append(out, row[i:i+k]...)
				i += k + 1
				if i < len(row) && row[i] == '"' {
					out = append(out, '"')
					i++
					continue
				}
				break
			}
			if i < len(row) && row[i] != c.delim {
				return nil, fmt.Errorf("%w: csv line %d: text after a closing quote", ErrDecode, c.line)
			}
		} else {
			k := bytes.IndexByte(row[i:], c.delim)
			if k < 0 {
				k = len(row) - i
			}
			v := row[i : i+k]
			if bytes.IndexByte(v, '"') >= 0 {
				return nil, fmt.Errorf("%w: csv line %d: quote inside an unquoted value", ErrDecode, c.line)
			}
			out = append(out, v...)
			i += k
		}
		spans = append(spans, span{st, len(out), len(out) == st})
		if i >= len(row) {
			break
		}
		i++ // delimiter
		if i == len(row) {
			spans = append(spans, span{len(out), len(out), true})
			break
		}
	}
	c.out, c.spans = out, spans
	if want >= 0 && len(spans) != want {
		return nil, fmt.Errorf("%w: csv line %d: %w: %d, header has %d", ErrDecode, c.line, errCSVColumns, len(spans), want)
	}
	text := string(out)
	fs := make([]Field, len(spans))
	for j, sp := range spans {
		if want >= 0 {
			fs[j].Name = c.header[j]
		}
		if !sp.null {
			fs[j].Value = text[sp.start:sp.end]
		}
	}
	return fs, nil
}
