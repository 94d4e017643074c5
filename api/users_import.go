package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/org"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

// Accounts from a spreadsheet (批量导入账号): an admin fills the template
// (GET /users/import/template), checks it (POST /users/import?dry_run=1)
// and imports it (POST /users/import). Every row is checked before
// anything is written; one bad row refuses the whole sheet, naming every
// bad row. An import creates the new usernames (generated initial
// passwords, changed at first sign-in) and updates the existing ones, in
// one transaction, and answers the new accounts' passwords once, as a
// spreadsheet the server does not keep.

const (
	maxImportBytes = 10 << 20
	maxImportRows  = 10000
	importSheet    = "账号"
	// importTimeout bounds an import (the check is a request like any other).
	importTimeout = 5 * time.Minute
	// The spreadsheet may unpack to at most this much (a zip bomb stops here).
	maxImportUnzipped = 200 << 20
)

// importColumn is a column of the sheet: its header in the template and
// the other headers read as the same column.
type importColumn struct {
	key, header string
	required    bool
	aliases     []string
}

var importColumns = []importColumn{
	{"unit", "单位编码或名称", true, []string{"单位", "单位编码", "单位名称", "unit", "unit_code"}},
	{"name", "姓名", true, []string{"name", "display_name"}},
	{"username", "用户名", true, []string{"账号", "username"}},
	{"roles", "角色", true, []string{"role", "roles"}},
	{"email", "邮箱", false, []string{"电子邮箱", "email"}},
	{"mobile", "手机", false, []string{"手机号", "手机号码", "mobile"}},
}

// roleNames reads a role by its Chinese label or its code.
var roleNames = func() map[string]duban.Role {
	m := map[string]duban.Role{}
	for _, r := range duban.Roles {
		m[r.Label()] = r
		m[string(r)] = r
	}
	return m
}()

var roleSeparators = strings.NewReplacer("、", ",", "，", ",", ";", ",", "；", ",", "/", ",", " ", ",", "\u3000", ",")

// importRow is one data row of the sheet; line is its row number in the
// spreadsheet (the header is row 1).
type importRow struct {
	line                                       int
	unit, name, username, roles, email, mobile string
}

// accountImport is a checked sheet: what it creates and updates.
type accountImport struct {
	rows   int
	create []store.User
	update []store.User
	// before holds the updated users as they were (by id).
	before map[int64]store.User
}

type importPreview struct {
	Line        int      `json:"line"`
	Action      string   `json:"action"` // create, update
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Unit        unitRef  `json:"unit"`
	Roles       []string `json:"roles"`
}

type importResult struct {
	DryRun  bool            `json:"dry_run"`
	Rows    int             `json:"rows"`
	Created int             `json:"created"`
	Updated int             `json:"updated"`
	Preview []importPreview `json:"preview"`
	// The new accounts' initial passwords, once: an .xlsx, base64.
	PasswordsFile string `json:"passwords_file,omitempty"`
	PasswordsXLSX string `json:"passwords_xlsx,omitempty"`
}

// importUsers checks a sheet (dry_run=1) or imports it.
func (s *server) importUsers(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	fileName, data, err := importUpload(c)
	if err != nil {
		return err
	}
	rows, err := readImportSheet(data)
	if err != nil {
		return err
	}
	h, err := s.units.get(ctx)
	if err != nil {
		return err
	}
	imp, err := s.checkImport(ctx, p, h, rows)
	if err != nil {
		return err
	}
	res := importResult{DryRun: c.QueryBool("dry_run"), Rows: imp.rows, Created: len(imp.create), Updated: len(imp.update)}
	res.Preview = imp.preview(h, rows, 100)
	if res.DryRun {
		return c.JSON(res)
	}
	// Thousands of accounts take longer than a request's 30 s (their
	// passwords are hashed on every core): the import has its own bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importTimeout)
	defer cancel()
	passwords, err := hashInitialPasswords(ctx, imp.create)
	if err != nil {
		return err
	}
	audit := map[string]any{"file": fileName, "rows": imp.rows, "created": len(imp.create), "updated": len(imp.update)}
	if err := s.DB.ImportUsersAs(ctx, store.UserImport{Create: imp.create, Update: imp.update, Audit: audit}, p.unit(), p.actor()); err != nil {
		return err
	}
	if len(imp.create) > 0 {
		sheet, err := passwordSheet(h, imp.create, passwords)
		if err != nil {
			return err
		}
		res.PasswordsFile = fmt.Sprintf("初始密码-%s-%s.xlsx", s.unitName(ctx, p.unit()), s.now().In(duban.Shanghai).Format("20060102-1504"))
		res.PasswordsXLSX = base64.StdEncoding.EncodeToString(sheet)
	}
	return c.JSON(res)
}

// importUpload reads the multipart field "file": an .xlsx of at most 10 MiB.
func importUpload(c *fiber.Ctx) (string, []byte, error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != fiber.MIMEMultipartForm {
		return "", nil, apiError(codeMediaType, "请以 multipart/form-data 上传账号表（字段 file：.xlsx）")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, input.Invalid("请上传账号表", input.FieldError{Field: "file", Message: "请选择填好的账号表（.xlsx）"})
	}
	tooLarge := apiError(codeTooLarge, "账号表不能超过 %d MB", maxImportBytes>>20)
	if fh.Size > maxImportBytes {
		return "", nil, tooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil {
		return "", nil, err
	}
	if len(b) > maxImportBytes {
		return "", nil, tooLarge
	}
	return cleanFileName(fh.Filename), b, nil
}

func badSheet(msg string, args ...any) error {
	return input.Invalid("无法读取账号表", input.FieldError{Field: "file", Message: fmt.Sprintf(msg, args...)})
}

// readImportSheet reads the rows of the sheet 账号 (or the first sheet):
// the header row names the columns (in any order), empty rows are
// skipped, every cell is trimmed.
func readImportSheet(data []byte) ([]importRow, error) {
	if !bytes.HasPrefix(data, []byte("PK")) {
		return nil, badSheet("不是 .xlsx 文件：请用下载的模板填写后上传（不支持 .xls、.csv）")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxImportUnzipped, UnzipXMLSizeLimit: maxImportUnzipped / 4})
	if err != nil {
		return nil, badSheet("文件已损坏或不是 .xlsx 文件，请用下载的模板填写后上传")
	}
	defer f.Close()
	sheet := importSheet
	if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, badSheet("读取工作表“%s”失败", truncateRunes(sheet, 30))
	}
	defer rows.Close()
	var (
		out    []importRow
		cols   map[string]int
		line   int
		header []string
	)
	for rows.Next() {
		line++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, badSheet("第 %d 行无法读取", line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cols == nil {
			if blank(cells) {
				continue
			}
			header = cells
			if cols, err = importHeader(cells); err != nil {
				return nil, err
			}
			continue
		}
		if blank(cells) {
			continue
		}
		if len(out) == maxImportRows {
			return nil, badSheet("每次最多导入 %d 个账号，请分成几个表导入", maxImportRows)
		}
		get := func(key string) string {
			if i, ok := cols[key]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		out = append(out, importRow{line: line, unit: get("unit"), name: get("name"), username: get("username"), roles: get("roles"),
			email: get("email"), mobile: get("mobile")})
	}
	if err := rows.Error(); err != nil {
		return nil, badSheet("文件已损坏，请用下载的模板填写后上传")
	}
	if header == nil {
		return nil, badSheet("工作表“%s”是空的：第一行应为表头（单位编码或名称、姓名、用户名、角色、邮箱、手机）", truncateRunes(sheet, 30))
	}
	if len(out) == 0 {
		return nil, badSheet("表中没有账号：请从表头下一行起每行填写一个账号")
	}
	return out, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// importHeader finds each column by its header.
func importHeader(cells []string) (map[string]int, error) {
	cols := map[string]int{}
	norm := func(s string) string {
		s = strings.TrimSpace(strings.TrimRight(s, "*＊ "))
		for _, suffix := range []string{"（必填）", "(必填)", "（选填）", "(选填)"} {
			s = strings.TrimSuffix(s, suffix)
		}
		return strings.ToLower(strings.TrimSpace(s))
	}
	for i, cell := range cells {
		h := norm(cell)
		for _, col := range importColumns {
			if h == col.header || (h != "" && contains(col.aliases, h)) {
				if _, dup := cols[col.key]; dup {
					return nil, badSheet("表头有两列“%s”", col.header)
				}
				cols[col.key] = i
			}
		}
	}
	var missing []string
	for _, col := range importColumns {
		if _, ok := cols[col.key]; !ok && col.required {
			missing = append(missing, col.header)
		}
	}
	if len(missing) > 0 {
		return nil, badSheet("第一行（表头）缺少列：%s。请使用下载的模板", strings.Join(missing, "、"))
	}
	return cols, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkImport checks every row against the admin's units and the accounts
// that exist, and says what the sheet would do; with any row wrong, the
// error names every wrong row (line) and column (field).
func (s *server) checkImport(ctx context.Context, p *principal, h *org.Hierarchy, rows []importRow) (*accountImport, error) {
	// Units of the admin's subtree, by code and by name (a name two units
	// share must be given as a code).
	byName := map[string][]string{}
	for _, u := range h.All() {
		if org.Contains(p.unit(), u.Code) {
			byName[u.Name] = append(byName[u.Name], u.Code)
		}
	}
	var usernames []string
	for _, r := range rows {
		if r.username != "" && !duban.HasControl(r.username) {
			usernames = append(usernames, r.username)
		}
	}
	existing, err := s.DB.UsersByUsernames(ctx, usernames)
	if err != nil {
		return nil, err
	}
	var errs []input.FieldError
	bad := map[int]bool{}
	fail := func(r importRow, col, msg string) {
		errs = append(errs, input.FieldError{Field: col, Message: msg, Line: r.line})
		bad[r.line] = true
	}
	imp := &accountImport{rows: len(rows), before: map[int64]store.User{}}
	firstLine := map[string]int{}
	for _, r := range rows {
		for _, cell := range []struct{ col, v string }{{"单位编码或名称", r.unit}, {"姓名", r.name}, {"用户名", r.username}, {"角色", r.roles},
			{"邮箱", r.email}, {"手机", r.mobile}} {
			if msg := duban.TextProblem(cell.v, 0, false); msg != "" {
				fail(r, cell.col, cell.col+msg)
			}
		}
		if bad[r.line] {
			continue
		}
		u := store.User{Username: r.username, DisplayName: r.name, Email: r.email, Mobile: r.mobile}
		// The unit: a code, or a name unique in the admin's units.
		switch {
		case r.unit == "":
			fail(r, "单位编码或名称", "单位必填：填写单位编码（如 430103）或名称")
		case unitCodeRE.MatchString(r.unit):
			if x, ok := h.Get(r.unit); !ok || !org.Contains(p.unit(), x.Code) {
				fail(r, "单位编码或名称", fmt.Sprintf("单位编码 %s 不存在或不在您的管理范围内", truncateRunes(r.unit, 20)))
			} else {
				u.UnitCode = x.Code
			}
		default:
			switch codes := byName[r.unit]; len(codes) {
			case 0:
				fail(r, "单位编码或名称", fmt.Sprintf("单位“%s”不存在或不在您的管理范围内", truncateRunes(r.unit, 30)))
			case 1:
				u.UnitCode = codes[0]
			default:
				sort.Strings(codes)
				fail(r, "单位编码或名称", fmt.Sprintf("您的管理范围内有 %d 个单位名为“%s”（%s），请改填单位编码", len(codes), r.unit, strings.Join(codes, "、")))
			}
		}
		if msg := displayNameProblem(r.name); msg != "" {
			fail(r, "姓名", msg)
		}
		if msg := usernameProblem(r.username); msg != "" {
			fail(r, "用户名", msg)
		} else if first, dup := firstLine[strings.ToLower(r.username)]; dup {
			fail(r, "用户名", fmt.Sprintf("与第 %d 行的用户名重复（用户名不区分大小写）", first))
		} else {
			firstLine[strings.ToLower(r.username)] = r.line
		}
		roles, msg := parseRoles(r.roles)
		if msg != "" {
			fail(r, "角色", msg)
		}
		u.Roles = roles
		if msg := emailProblem(r.email); msg != "" {
			fail(r, "邮箱", msg)
		}
		if msg := mobileProblem(r.mobile); msg != "" {
			fail(r, "手机", msg)
		}
		if bad[r.line] {
			continue
		}
		u.DisplayName = strings.TrimSpace(u.DisplayName)
		if old, ok := existing[strings.ToLower(r.username)]; ok {
			switch {
			case !p.manages(old.UnitCode):
				fail(r, "用户名", fmt.Sprintf("用户名 %s 已被您管理范围以外的账号使用", r.username))
			case old.ID == p.User.ID && !hasRole(roles, duban.RoleAdmin):
				fail(r, "角色", "不能取消自己的管理员角色")
			default:
				u.ID, u.Username, u.PasswordHash = old.ID, old.Username, old.PasswordHash
				imp.update = append(imp.update, u)
				imp.before[old.ID] = old
			}
			continue
		}
		u.MustChangePassword = true
		imp.create = append(imp.create, u)
	}
	if len(errs) > 0 {
		return nil, input.Invalid(fmt.Sprintf("账号表共 %d 行，其中 %d 行有误：请改正后重新上传，未导入任何账号", len(rows), len(bad)), errs...)
	}
	return imp, nil
}

// parseRoles reads "承办人、审核人" (or codes), separated by 、，,;/ or spaces.
func parseRoles(cell string) ([]duban.Role, string) {
	if cell == "" {
		return nil, "角色必填：承办人、审核人、督查人、管理员，多个用“、”分隔"
	}
	var roles []duban.Role
	for _, name := range strings.Split(roleSeparators.Replace(cell), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r, ok := roleNames[strings.ToLower(name)]
		if !ok {
			r, ok = roleNames[name]
		}
		if !ok {
			return nil, fmt.Sprintf("未知角色“%s”：应为承办人、审核人、督查人、管理员", truncateRunes(name, 20))
		}
		if !hasRole(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil, "角色必填：承办人、审核人、督查人、管理员，多个用“、”分隔"
	}
	return roles, ""
}

// preview lists the first n rows as the import will apply them.
func (imp *accountImport) preview(h *org.Hierarchy, rows []importRow, n int) []importPreview {
	byName := map[string]store.User{}
	action := map[string]string{}
	for _, u := range imp.create {
		byName[strings.ToLower(u.Username)], action[strings.ToLower(u.Username)] = u, "create"
	}
	for _, u := range imp.update {
		byName[strings.ToLower(u.Username)], action[strings.ToLower(u.Username)] = u, "update"
	}
	out := []importPreview{}
	for _, r := range rows {
		if len(out) == n {
			break
		}
		u, ok := byName[strings.ToLower(r.username)]
		if !ok {
			continue
		}
		pv := importPreview{Line: r.line, Action: action[strings.ToLower(r.username)], Username: u.Username, DisplayName: u.DisplayName,
			Unit: unitRef{Code: u.UnitCode}}
		if x, ok := h.Get(u.UnitCode); ok {
			pv.Unit.Name = x.Name
		}
		for _, role := range u.Roles {
			pv.Roles = append(pv.Roles, role.Label())
		}
		out = append(out, pv)
	}
	return out
}

// hashInitialPasswords gives each new user a generated password, hashed
// on every core; it returns the passwords in the users' order.
func hashInitialPasswords(ctx context.Context, users []store.User) ([]string, error) {
	passwords := make([]string, len(users))
	for i := range passwords {
		passwords[i] = password.Generate()
	}
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				hash, err := password.HashGenerated(passwords[i])
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				users[i].PasswordHash = hash
			}
		}()
	}
feed:
	for i := range users {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return passwords, firstErr
}

// xlsxStyles are the account sheets' styles: a bold shaded header, and
// text (codes, mobiles and passwords that Excel must not turn into numbers).
func xlsxStyles(f *excelize.File) (bold, text int, err error) {
	if bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1}}); err != nil {
		return 0, 0, err
	}
	text, err = f.NewStyle(&excelize.Style{NumFmt: 49})
	return bold, text, err
}

// streamSheet starts writing a sheet: the column widths and the header row.
func streamSheet(f *excelize.File, sheet string, bold int, header []string, widths []float64) (*excelize.StreamWriter, error) {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	head := make([]any, len(header))
	for i, v := range header {
		head[i] = excelize.Cell{StyleID: bold, Value: v}
	}
	return sw, sw.SetRow("A1", head)
}

func xlsxBytes(f *excelize.File) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// passwordSheet is the new accounts with their initial passwords.
func passwordSheet(h *org.Hierarchy, users []store.User, passwords []string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "初始密码"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	bold, text, err := xlsxStyles(f)
	if err != nil {
		return nil, err
	}
	sw, err := streamSheet(f, sheet, bold, []string{"单位", "单位编码", "姓名", "用户名", "初始密码"}, []float64{28, 12, 14, 20, 16})
	if err != nil {
		return nil, err
	}
	for i, u := range users {
		unit := u.UnitCode
		if x, ok := h.Get(u.UnitCode); ok {
			unit = h.Path(x.Code)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		row := []any{unit, excelize.Cell{StyleID: text, Value: u.UnitCode}, u.DisplayName, u.Username, excelize.Cell{StyleID: text, Value: passwords[i]}}
		if err := sw.SetRow(cell, row); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return xlsxBytes(f)
}

// importTemplate is the sheet to fill: 账号 (the header row), 填写说明
// (the columns and the role names) and 单位编码 (the admin's units).
func (s *server) importTemplate(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	h, err := s.units.get(c.UserContext())
	if err != nil {
		return err
	}
	body, err := importTemplateFile(h, p.unit())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, contentDisposition(fmt.Sprintf("账号导入模板-%s.xlsx", s.unitName(c.UserContext(), p.unit()))))
	return c.Send(body)
}

func importTemplateFile(h *org.Hierarchy, scope string) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", importSheet); err != nil {
		return nil, err
	}
	bold, text, err := xlsxStyles(f)
	if err != nil {
		return nil, err
	}
	for i, col := range importColumns {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetCellValue(importSheet, name+"1", col.header); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(importSheet, name, name, []float64{22, 12, 18, 20, 26, 16}[i]); err != nil {
			return nil, err
		}
	}
	// Codes and mobiles stay text (Excel would turn them into numbers);
	// the header is styled after, as a column's style covers its cells.
	for _, col := range []string{"A", "F"} {
		if err := f.SetColStyle(importSheet, col, text); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(importSheet, "A1", "F1", bold); err != nil {
		return nil, err
	}
	if err := f.SetPanes(importSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}

	const help = "填写说明"
	if _, err := f.NewSheet(help); err != nil {
		return nil, err
	}
	lines := [][]any{
		{"列", "是否必填", "说明"},
		{"单位编码或名称", "必填", "账号所属单位：填写区划代码（如 430103），或单位名称（在您的管理范围内唯一时）。代码见“单位编码”表。"},
		{"姓名", "必填", "最多 60 个字。"},
		{"用户名", "必填", "登录用的名字：2–64 位字母、数字、点、下划线或连字符，以字母或数字开头；不区分大小写，不能重复。已有的用户名按本表更新姓名、单位、角色、邮箱和手机（密码不变）。"},
		{"角色", "必填", "承办人、审核人、督查人、管理员中的一个或几个，多个用“、”分隔（也可写 official、approver、supervisor、admin）。"},
		{"邮箱", "选填", "如 name@example.cn。"},
		{"手机", "选填", "11 位手机号，如 13800138000。"},
		{},
		{"角色", "英文代码", "能做什么"},
	}
	roleHelp := map[duban.Role]string{
		duban.RoleOfficial:   "承办本单位的任务：报告进展、上传佐证材料、提交审批、申请延期。",
		duban.RoleApprover:   "审批下级单位提交的任务和延期申请。",
		duban.RoleSupervisor: "查看本单位及下级的督办看板、考核和审计记录，催办。",
		duban.RoleAdmin:      "管理本单位及下级的账号和单位；省级管理员还管理计划。",
	}
	for _, r := range duban.Roles {
		lines = append(lines, []any{r.Label(), string(r), roleHelp[r]})
	}
	lines = append(lines, []any{}, []any{"导入", "", "先“校验”：每一行都检查，有误的行会列出行号和原因，此时不导入任何账号；全部无误后再“导入”。新账号的初始密码只在导入后下载一次，账号首次登录须修改密码。"})
	for i, l := range lines {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(help, cell, &l); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(help, "A", "A", 16); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(help, "B", "B", 12); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(help, "C", "C", 90); err != nil {
		return nil, err
	}
	for _, cell := range []string{"A1", "A9"} {
		end := strings.Replace(cell, "A", "C", 1)
		if err := f.SetCellStyle(help, cell, end, bold); err != nil {
			return nil, err
		}
	}

	const units = "单位编码"
	if _, err := f.NewSheet(units); err != nil {
		return nil, err
	}
	sw, err := streamSheet(f, units, bold, []string{"单位编码", "单位名称", "层级", "所属"}, []float64{14, 24, 10, 40})
	if err != nil {
		return nil, err
	}
	n := 1
	for _, u := range h.All() {
		if !org.Contains(scope, u.Code) {
			continue
		}
		n++
		cell, _ := excelize.CoordinatesToCellName(1, n)
		if err := sw.SetRow(cell, []any{excelize.Cell{StyleID: text, Value: u.Code}, u.Name, u.Level.Label(), h.Path(u.Code)}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	f.SetActiveSheet(0)
	return xlsxBytes(f)
}
