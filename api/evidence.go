package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/blob"
	"github.com/duban-dev/duban/store"
)

// Evidence types: what an approver can open and read. Archives (zip, rar)
// are refused: they hide their content from review and carry bombs. The
// type is detected from the content and must agree with the extension; the
// stored content type is ours, never the client's.
var evidenceTypes = map[string]struct {
	contentType string
	matches     func(head []byte) bool
}{
	".pdf":  {"application/pdf", sniffed("application/pdf")},
	".jpg":  {"image/jpeg", sniffed("image/jpeg")},
	".jpeg": {"image/jpeg", sniffed("image/jpeg")},
	".png":  {"image/png", sniffed("image/png")},
	".doc":  {"application/msword", isOLE},
	".xls":  {"application/vnd.ms-excel", isOLE},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", isZip},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", isZip},
	// OFD is China's standard format for official electronic documents (GB/T 33190).
	".ofd": {"application/ofd", isZip},
}

func sniffed(want string) func([]byte) bool {
	return func(head []byte) bool { return http.DetectContentType(head) == want }
}

func isOLE(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
}
func isZip(head []byte) bool { return bytes.HasPrefix(head, []byte("PK\x03\x04")) }

// allowedExtensions lists the accepted extensions for messages.
const allowedExtensions = "pdf、ofd、jpg、png、doc、docx、xls、xlsx"

func isMultipart(c *fiber.Ctx) bool {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	return mt == fiber.MIMEMultipartForm
}

// cleanFileName keeps the base name, without control characters, at most
// 120 characters.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 120 {
		ext := path.Ext(name)
		name = string(r[:120-len([]rune(ext))]) + ext
	}
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	return name
}

// storeFiles checks and stores every file of a multipart form under
// "file" and records them as the instance's evidence.
func (s *server) storeFiles(c *fiber.Ctx, p *principal, in store.Instance, form *multipart.Form) ([]duban.Evidence, error) {
	files := form.File["file"]
	if len(files) > s.lim.MaxUploadFiles {
		return nil, input.Invalid("文件过多", input.FieldError{Field: "file", Message: fmt.Sprintf("一次最多上传 %d 个文件", s.lim.MaxUploadFiles)})
	}
	var out []duban.Evidence
	for i, fh := range files {
		field := fmt.Sprintf("file[%d]", i)
		name := cleanFileName(fh.Filename)
		if fh.Size > s.lim.MaxUploadBytes {
			return nil, &input.Error{Code: codeTooLarge, Message: "文件过大", Fields: []input.FieldError{{Field: field, Message: fmt.Sprintf("%s 超过 %d MB", name, s.lim.MaxUploadBytes>>20)}}}
		}
		if fh.Size == 0 {
			return nil, input.Invalid("文件为空", input.FieldError{Field: field, Message: name + " 是空文件"})
		}
		ext := strings.ToLower(path.Ext(name))
		kind, ok := evidenceTypes[ext]
		if !ok {
			return nil, &input.Error{Code: codeMediaType, Message: "不支持的文件类型", Fields: []input.FieldError{{Field: field, Message: fmt.Sprintf("%s：只接受 %s 文件", name, allowedExtensions)}}}
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		head := make([]byte, 512)
		n, err := io.ReadFull(f, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, err
		}
		head = head[:n]
		if !kind.matches(head) {
			f.Close()
			return nil, &input.Error{Code: codeMediaType, Message: "文件内容与类型不符", Fields: []input.FieldError{{Field: field, Message: fmt.Sprintf("%s 的内容不是 %s 文件", name, strings.TrimPrefix(ext, "."))}}}
		}
		info, err := s.Blobs.Put(c.UserContext(), io.MultiReader(bytes.NewReader(head), f), s.lim.MaxUploadBytes)
		f.Close()
		if errors.Is(err, blob.ErrTooLarge) {
			return nil, &input.Error{Code: codeTooLarge, Message: "文件过大", Fields: []input.FieldError{{Field: field, Message: fmt.Sprintf("%s 超过 %d MB", name, s.lim.MaxUploadBytes>>20)}}}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, duban.Evidence{SHA256: info.SHA256, Name: name, Size: info.Size, ContentType: kind.contentType})
	}
	if len(out) > 0 {
		if err := s.DB.AddEvidence(c.UserContext(), in.ID, out, p.User.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// uploadEvidence stores files for a task without reporting anything; a
// later progress report or submission refers to them by hash.
func (s *server) uploadEvidence(c *fiber.Ctx) error {
	p, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	if err := duban.Permit(duban.ActionUploadEvidence, p.actor(), factsOf(in)); err != nil {
		return err
	}
	if !isMultipart(c) {
		return apiError(codeMediaType, "请以 multipart/form-data 上传文件（字段名 file）")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return input.Malformed("multipart 请求体无法解析")
	}
	if len(form.File["file"]) == 0 {
		return input.Invalid("没有文件", input.FieldError{Field: "file", Message: "请选择要上传的文件"})
	}
	files, err := s.storeFiles(c, p, in, form)
	if err != nil {
		return err
	}
	views := make([]evidenceView, len(files))
	for i, f := range files {
		views[i] = evidenceView{Evidence: f, URL: "/api/v1/tasks/" + url.PathEscape(in.ID) + "/evidence/" + f.SHA256}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"items": views})
}

// readProgressForm reads a multipart progress report or submission: fields
// value, base, note, evidence (repeatable) and files under "file". Only the
// task's own officials may attach files.
// check validates the fields read, as the action the form is for asks,
// before any file is stored.
func (s *server) readProgressForm(c *fiber.Ctx, p *principal, in store.Instance, req *progressRequest, check func() error) ([]duban.Evidence, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, input.Malformed("multipart 请求体无法解析")
	}
	var errs []input.FieldError
	for name := range form.Value {
		switch name {
		case "value", "base", "note", "evidence":
		default:
			errs = append(errs, input.FieldError{Field: name, Message: "未知字段"})
		}
	}
	for name := range form.File {
		if name != "file" {
			errs = append(errs, input.FieldError{Field: name, Message: "未知字段（文件字段名应为 file）"})
		}
	}
	num := func(name string) *int {
		vs := form.Value[name]
		if len(vs) == 0 || vs[0] == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
		if err != nil {
			errs = append(errs, input.FieldError{Field: name, Message: "应为整数"})
			return nil
		}
		return &n
	}
	req.Value, req.Base = num("value"), num("base")
	if vs := form.Value["note"]; len(vs) > 0 {
		req.Note = vs[0]
	}
	req.Evidence = form.Value["evidence"]
	req.files = len(form.File["file"])
	if len(errs) > 0 {
		return nil, input.Invalid("请求包含错误字段", errs...)
	}
	if err := check(); err != nil {
		return nil, err
	}
	if len(form.File["file"]) > 0 {
		if err := duban.Permit(duban.ActionUploadEvidence, p.actor(), factsOf(in)); err != nil {
			return nil, err
		}
	}
	return s.storeFiles(c, p, in, form)
}

// downloadEvidence serves a file through a task the caller can see; a hash
// not uploaded to that task is 404 even if the file exists elsewhere.
func (s *server) downloadEvidence(c *fiber.Ctx) error {
	_, in, err := s.actionTarget(c)
	if err != nil {
		return err
	}
	hash := c.Params("sha256")
	if !blob.ValidHash(hash) {
		return notFound("佐证材料")
	}
	ev, err := s.DB.EvidenceOf(c.UserContext(), in.ID, []string{hash})
	if err != nil {
		if duban.ErrorCode(err) == duban.EINVALID {
			return notFound("佐证材料")
		}
		return err
	}
	r, info, err := s.Blobs.Open(c.UserContext(), hash)
	if errors.Is(err, blob.ErrNotFound) {
		return notFound("佐证材料文件")
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ev[0].ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(ev[0].Name))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("ETag", `"`+hash+`"`)
	c.Response().SetBodyStream(r, int(info.Size))
	return nil
}
