package postgres

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// appendNumeric appends the binary numeric form of decimal text of the
// form store.CheckValue accepts ([+-]digits[.digits]): the number of
// base-10000 digits, the weight of the first, the sign, the display
// scale (the count of fraction digits written), then the digits.
func appendNumeric(buf []byte, s string) ([]byte, error) {
	sign := uint16(0)
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = 0x4000, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 0x3FFF {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	for _, part := range [2]string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return nil, fmt.Errorf("%q is not a decimal number", s)
			}
		}
	}
	dscale := len(frac)
	whole = strings.TrimLeft(whole, "0")

	// Group the digits by four around the decimal point.
	lead := (4 - len(whole)%4) % 4
	trail := (4 - len(frac)%4) % 4
	digits := strings.Repeat("0", lead) + whole + frac + strings.Repeat("0", trail)
	weight := (lead+len(whole))/4 - 1
	groups := make([]uint16, 0, len(digits)/4)
	for i := 0; i < len(digits); i += 4 {
		g := uint16(digits[i]-'0')*1000 + uint16(digits[i+1]-'0')*100 +
			uint16(digits[i+2]-'0')*10 + uint16(digits[i+3]-'0')
		groups = append(groups, g)
	}
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		sign, weight = 0, 0
	}
	if len(groups) > 0xFFFF || weight > 0x7FFF {
		return nil, fmt.Errorf("%q is out of numeric range", s)
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(groups)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	for _, g := range groups {
		buf = binary.BigEndian.AppendUint16(buf, g)
	}
	return buf, nil
}
