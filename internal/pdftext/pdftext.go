// Package pdftext reads back the text a PDF written by Duban's reports
// shows, for tests: it inflates the content streams and decodes the
// strings of their Tj operators (UTF-16BE, as fpdf writes them for UTF-8
// fonts). It is no general PDF reader.
package pdftext

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Text extracts the text a PDF shows: it inflates the content streams and
// decodes the strings of each text operator, which the writer encodes as
// UTF-16BE for a Unicode font. Enough to check what a report says.
func Text(pdf []byte) string {
	streamRE := regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	strRE := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	var out strings.Builder
	for _, m := range streamRE.FindAllSubmatch(pdf, -1) {
		data := m[1]
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if inflated, err := io.ReadAll(zr); err == nil {
				data = inflated
			}
		}
		for _, s := range strRE.FindAllSubmatch(data, -1) {
			out.WriteString(decodePDFString(unescapePDF(s[1])))
		}
		out.WriteString("\n")
	}
	return out.String()
}

func unescapePDF(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		i++
		switch c := b[i]; c {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		default:
			if c >= '0' && c <= '7' {
				v, j := 0, 0
				for ; j < 3 && i+j < len(b) && b[i+j] >= '0' && b[i+j] <= '7'; j++ {
					v = v*8 + int(b[i+j]-'0')
				}
				out = append(out, byte(v))
				i += j - 1
			} else {
				out = append(out, c)
			}
		}
	}
	return out
}

func decodePDFString(b []byte) string {
	if len(b)%2 != 0 {
		return string(b)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}
