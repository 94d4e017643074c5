package plan

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/duban-dev/duban"
)

// decoder fills plan structs from a YAML AST strictly: unknown and duplicate
// keys and scalars of the wrong type are errors, and every error is kept (the
// walk goes on with the siblings). It remembers where each field path sits in
// the file so validation can point at it.
type decoder struct {
	file    string
	errs    ValidationErrors
	pos     map[string]token.Position
	failed  []string // paths whose value could not be decoded
	anchors map[string]ast.Node
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]token.Position{}, anchors: map[string]ast.Node{}}
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// decode fills out (a pointer) from node n found at path.
func (d *decoder) decode(path string, n ast.Node, out any) {
	if n != nil {
		d.pos[path] = nodePos(n)
	}
	d.value(path, n, reflect.ValueOf(out).Elem())
}

// value decodes n into v. A nil or null node leaves v at its zero value: a
// missing field and an empty one read the same, and validation reports both.
func (d *decoder) value(path string, n ast.Node, v reflect.Value) {
	n = d.resolve(path, n)
	if n == nil || n.Type() == ast.NullType {
		return
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		text, ok := scalarText(n)
		if !ok {
			d.typeError(path, n, "文本")
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			d.fail(path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(path, n, elem.Elem())
		v.Set(elem)
	case reflect.Struct:
		d.structValue(path, n, v)
	case reflect.Map:
		d.mapValue(path, n, v)
	case reflect.Slice:
		d.sliceValue(path, n, v)
	case reflect.String:
		text, ok := scalarText(n)
		if !ok || n.Type() == ast.BoolType {
			d.typeError(path, n, "文本")
			return
		}
		// Plan texts may run over lines; nothing may hold NUL or another
		// control character, which the database would refuse at import.
		if msg := duban.TextProblem(text, 0, true); msg != "" {
			d.fail(path, "文本%s", msg)
			return
		}
		v.SetString(text)
	case reflect.Int:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			d.typeError(path, n, "整数")
			return
		}
		var i int64
		switch x := in.Value.(type) {
		case int64:
			i = x
		case uint64:
			if x > math.MaxInt64 {
				d.fail(path, "整数 %s 超出范围", in.Token.Value)
				return
			}
			i = int64(x)
		}
		if v.OverflowInt(i) {
			d.fail(path, "整数 %s 超出范围", in.Token.Value)
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.typeError(path, n, "布尔值（true 或 false）")
			return
		}
		v.SetBool(b.Value)
	default:
		// Only reached if the model gains a field type this decoder does not know.
		d.fail(path, "无法解码的字段类型 %s", v.Type())
	}
}

// resolve follows anchors, aliases and tags to the node holding the value.
func (d *decoder) resolve(path string, n ast.Node) ast.Node {
	for n != nil {
		switch x := n.(type) {
		case *ast.AnchorNode:
			if name, ok := scalarText(x.Name); ok {
				d.anchors[name] = x.Value
			}
			n = x.Value
		case *ast.AliasNode:
			name, _ := scalarText(x.Value)
			target, ok := d.anchors[name]
			if !ok {
				d.fail(path, "引用了未定义的锚点 *%s", name)
				return nil
			}
			n = target
		case *ast.TagNode:
			n = x.Value
		default:
			return n
		}
	}
	return nil
}

// pairs returns the key/value pairs of a mapping node, or false.
func pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch x := n.(type) {
	case *ast.MappingNode:
		return x.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{x}, true
	}
	return nil, false
}

// keyText reads a mapping key; false for keys that are not plain scalars.
func keyText(k ast.MapKeyNode) (string, bool) {
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		return scalarText(mk.Value)
	}
	return scalarText(k)
}

// mapping walks a mapping's pairs, reporting merge keys and duplicates, and
// records each value's position under path.key.
func (d *decoder) mapping(path string, n ast.Node, each func(key string, keyNode, value ast.Node)) {
	ps, ok := pairs(n)
	if !ok {
		d.typeError(path, n, "映射（键: 值）")
		return
	}
	seen := map[string]int{}
	for _, mv := range ps {
		key, ok := keyText(mv.Key)
		if !ok {
			d.errAt(path, nodePos(mv.Key), "键应为文本，实为%s", nodeLabel(mv.Key))
			continue
		}
		if mv.Key.IsMergeKey() {
			d.errAt(join(path, key), nodePos(mv.Key), "不支持合并键 <<，请直接写出各字段")
			continue
		}
		child := join(path, key)
		if line, dup := seen[key]; dup {
			d.errAt(child, nodePos(mv.Key), "键 %q 重复（第 %d 行已出现）", key, line)
			d.failed = append(d.failed, child)
			continue
		}
		seen[key] = nodePos(mv.Key).Line
		p := nodePos(mv.Key)
		if isScalar(mv.Value) {
			p = nodePos(mv.Value)
		}
		d.pos[child] = p
		each(key, mv.Key, mv.Value)
	}
}

func (d *decoder) structValue(path string, n ast.Node, v reflect.Value) {
	fields, names := yamlFields(v.Type())
	d.mapping(path, n, func(key string, keyNode, value ast.Node) {
		i, ok := fields[key]
		if !ok {
			d.errAt(join(path, key), nodePos(keyNode), "未知字段 %q（可用字段：%s）", key, strings.Join(names, "、"))
			return
		}
		d.value(join(path, key), value, v.Field(i))
	})
}

func (d *decoder) mapValue(path string, n ast.Node, v reflect.Value) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(path, "无法解码的映射类型 %s", t)
		return
	}
	m := reflect.MakeMap(t)
	d.mapping(path, n, func(key string, _, value ast.Node) {
		elem := reflect.New(t.Elem()).Elem()
		d.value(join(path, key), value, elem)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	})
	v.Set(m)
}

func (d *decoder) sliceValue(path string, n ast.Node, v reflect.Value) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.typeError(path, n, "列表")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		child := fmt.Sprintf("%s[%d]", path, i)
		d.pos[child] = nodePos(item)
		d.value(child, item, s.Index(i))
	}
	v.Set(s)
}

// yamlFields maps yaml key names to field indexes, and lists the names.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
		names = append(names, name)
	}
	return fields, names
}

// scalarText is the text of a scalar as written: id: 2.10 reads "2.10", not
// the float 2.1.
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return x.GetToken().Value, true
	}
	return "", false
}

func isScalar(n ast.Node) bool {
	for {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode, nil:
			return false
		default:
			return true
		}
	}
}

// nodePos is where a node starts as a reader sees it: a mapping at its first
// key, a sequence at its first dash or bracket.
func nodePos(n ast.Node) token.Position {
	switch x := n.(type) {
	case *ast.MappingNode:
		if len(x.Values) > 0 {
			return nodePos(x.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return nodePos(x.Key)
	case *ast.MappingKeyNode:
		if x.Start != nil {
			return *x.Start.Position
		}
	}
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return *tk.Position
		}
	}
	return token.Position{Line: 1, Column: 1}
}

func nodeLabel(n ast.Node) string {
	switch n.Type() {
	case ast.MappingType, ast.MappingValueType:
		return "映射"
	case ast.SequenceType:
		return "列表"
	case ast.IntegerType:
		return "整数 " + n.GetToken().Value
	case ast.FloatType:
		return "小数 " + n.GetToken().Value
	case ast.BoolType:
		return "布尔值 " + n.GetToken().Value
	case ast.StringType, ast.LiteralType:
		s, _ := scalarText(n)
		return "文本 " + strconv.Quote(s)
	}
	return n.Type().String()
}

func (d *decoder) typeError(path string, n ast.Node, want string) {
	d.fail(path, "类型错误：应为%s，实为%s", want, nodeLabel(n))
}

// fail records a decode error at path; validation stays quiet about it.
func (d *decoder) fail(path, format string, args ...any) {
	d.failed = append(d.failed, path)
	d.errAt(path, d.at(path), format, args...)
}

func (d *decoder) errAt(path string, p token.Position, format string, args ...any) {
	d.errs = append(d.errs, ValidationError{
		File: d.file, Line: p.Line, Column: p.Column, Field: path,
		Message: fmt.Sprintf(format, args...),
	})
}

// at is the position of path, or of its nearest ancestor present in the file
// (a missing field points at the mapping that should hold it).
func (d *decoder) at(path string) token.Position {
	for {
		if p, ok := d.pos[path]; ok {
			return p
		}
		if path == "" {
			return token.Position{Line: 1, Column: 1}
		}
		path = parentPath(path)
	}
}

// failedAt reports whether decoding failed on path itself.
func (d *decoder) failedAt(path string) bool {
	for _, f := range d.failed {
		if f == path {
			return true
		}
	}
	return false
}

// report records a validation error unless decoding already failed on the
// same value, or on one inside or around it: one problem, one message.
func (d *decoder) report(path, format string, args ...any) {
	for _, f := range d.failed {
		if related(path, f) {
			return
		}
	}
	d.errAt(path, d.at(path), format, args...)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// related reports whether a and b are the same path or one contains the other.
func related(a, b string) bool {
	within := func(x, y string) bool {
		return x == y || y == "" || strings.HasPrefix(x, y+".") || strings.HasPrefix(x, y+"[")
	}
	return within(a, b) || within(b, a)
}
