package render

import (
	"errors"
	"strconv"
)

// rgb is a validated colour; its String form is safe to embed in CSS.
type rgb struct{ r, g, b int }

var errBadColor = errors.New(`want "#RRGGBB"`)

func parseColor(s string) (rgb, error) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, errBadColor
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return rgb{}, errBadColor
	}
	return rgb{int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)}, nil
}

func (c rgb) String() string {
	const hex = "0123456789abcdef"
	b := []byte{'#', 0, 0, 0, 0, 0, 0}
	for i, v := range []int{c.r, c.g, c.b} {
		b[1+2*i] = hex[v>>4]
		b[2+2*i] = hex[v&0xf]
	}
	return string(b)
}

// mix blends c towards white; t=0 keeps c, t=1 gives white. Tints of the
// accent colour keep table fills in the organisation's palette.
func (c rgb) mix(t float64) rgb {
	tint := func(v int) int { return v + int(float64(255-v)*t+0.5) }
	return rgb{tint(c.r), tint(c.g), tint(c.b)}
}
