package draft

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// paragraph is one block of the notice as its author wrote it.
type paragraph struct {
	text    string
	heading bool // marked as a heading by the format (Markdown #, a Word heading style)
}

// maxNoticeBytes bounds what is read: a yearly notice is a few pages.
const maxNoticeBytes = 8 << 20

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // legacy .doc
)

// readParagraphs turns a notice file into paragraphs: .docx (word/document.xml,
// one paragraph per w:p), Markdown or plain text (UTF-8, or GB18030 as older
// Chinese office files are saved).
func readParagraphs(name string, data []byte) ([]paragraph, error) {
	if len(data) > maxNoticeBytes {
		return nil, fmt.Errorf("通知文件 %s 过大（%d 字节，上限 %d）", name, len(data), maxNoticeBytes)
	}
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return readDocx(name, data)
	case bytes.HasPrefix(data, oleMagic):
		return nil, fmt.Errorf("通知文件 %s 是旧版 Word（.doc）格式，无法读取：请另存为 .docx 或纯文本", name)
	}
	text, err := decodeText(name, data)
	if err != nil {
		return nil, err
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == ".md" || ext == ".markdown" || markdownHeadingRE.MatchString(text) {
		return readMarkdown(text), nil
	}
	return readPlain(text), nil
}

func decodeText(name string, data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(dec) {
			return "", fmt.Errorf("通知文件 %s 既不是 UTF-8 也不是 GB18030 编码的文本，无法读取", name)
		}
		data = dec
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", fmt.Errorf("通知文件 %s 不是文本文件（含二进制内容）：请提供纯文本、Markdown 或 .docx", name)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ReplaceAll(text, "\r", "\n"), nil
}

var (
	markdownHeadingRE = regexp.MustCompile(`(?m)^#{1,6} `)
	markdownRuleRE    = regexp.MustCompile(`^\s*([-*_]\s*){3,}$`)
	// pageNumberRE matches the page numbers a printed notice carries ("— 2 —", "- 3 -").
	pageNumberRE = regexp.MustCompile(`^[-—－–\s]*\d{1,3}[-—－–\s]*$`)
)

// readMarkdown: consecutive lines form one paragraph; # lines are headings;
// emphasis markers and rules are dropped.
func readMarkdown(text string) []paragraph {
	var out []paragraph
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, paragraph{text: strings.Join(cur, "")})
			cur = nil
		}
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || markdownRuleRE.MatchString(t) || pageNumberRE.MatchString(t):
			flush()
		case strings.HasPrefix(t, "#"):
			flush()
			h := strings.TrimSpace(strings.TrimLeft(t, "#"))
			if h = stripEmphasis(h); h != "" {
				out = append(out, paragraph{text: h, heading: true})
			}
		default:
			cur = append(cur, stripEmphasis(t))
		}
	}
	flush()
	return out
}

func stripEmphasis(s string) string {
	s = strings.ReplaceAll(s, "**", "")
	s = strings.ReplaceAll(s, "__", "")
	return strings.TrimSpace(s)
}

// readPlain: every non-empty line is a paragraph (text copied out of a
// document keeps one paragraph a line).
func readPlain(text string) []paragraph {
	var out []paragraph
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || pageNumberRE.MatchString(t) {
			continue
		}
		out = append(out, paragraph{text: t})
	}
	return out
}

// readDocx reads word/document.xml: each w:p is a paragraph made of its w:t
// runs (deleted text, w:delText, is not w:t and so is left out); a paragraph
// style whose id names a heading or title marks a heading.
func readDocx(name string, data []byte) ([]paragraph, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("通知文件 %s 不是有效的 .docx（zip 无法打开）：%v", name, err)
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
		}
	}
	if doc == nil {
		return nil, fmt.Errorf("通知文件 %s 不是 Word 文档：缺少 word/document.xml", name)
	}
	rc, err := doc.Open()
	if err != nil {
		return nil, fmt.Errorf("通知文件 %s：无法读取 word/document.xml：%v", name, err)
	}
	defer rc.Close()
	ps, err := docxParagraphs(io.LimitReader(rc, 4*maxNoticeBytes))
	if err != nil {
		return nil, fmt.Errorf("通知文件 %s：word/document.xml 无法解析：%v", name, err)
	}
	return ps, nil
}

const wordML = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

func docxParagraphs(r io.Reader) ([]paragraph, error) {
	dec := xml.NewDecoder(r)
	var (
		out     []paragraph
		depth   int // nesting of w:p (a text box can hold paragraphs inside one)
		buf     strings.Builder
		heading bool
		inText  bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordML {
				continue
			}
			switch t.Name.Local {
			case "p":
				if depth == 0 {
					buf.Reset()
					heading = false
				}
				depth++
			case "t":
				inText = true
			case "tab":
				buf.WriteString(" ")
			case "br", "cr":
				buf.WriteString("\n")
			case "pStyle":
				for _, a := range t.Attr {
					if a.Name.Local == "val" && isHeadingStyle(a.Value) {
						heading = true
					}
				}
			case "outlineLvl":
				heading = true
			}
		case xml.EndElement:
			if t.Name.Space != wordML {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				depth--
				if depth == 0 {
					// A line break inside a paragraph is layout, not a new paragraph.
					for _, line := range strings.Split(buf.String(), "\n") {
						if s := strings.TrimSpace(line); s != "" && !pageNumberRE.MatchString(s) {
							out = append(out, paragraph{text: s, heading: heading})
						}
					}
				}
			}
		case xml.CharData:
			if inText {
				buf.Write(t)
			}
		}
	}
	return out, nil
}

func isHeadingStyle(id string) bool {
	l := strings.ToLower(id)
	return strings.HasPrefix(l, "heading") || strings.HasPrefix(l, "title") || strings.Contains(id, "标题")
}

// hasHan reports whether s holds a Chinese character.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
