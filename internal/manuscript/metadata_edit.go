package manuscript

import (
	"bytes"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EditMetadata returns src, the text of a metadata.yaml, changed so that
// it reads as to, and otherwise untouched: only the entries whose values
// change are rewritten — each with the style it had (quoting, a folded or
// literal block, a single author as a plain value, a list in [brackets] or
// as "- items", margins as one value or a mapping), its comments and its
// place — new entries are added at the end, and emptied ones removed.
// Comments, key order, blank lines and every other line stay as the
// author wrote them. Keys are edited under the name the file uses
// ("authors:", "lang:", "cover-image:", …).
//
// A src that is not a YAML mapping (empty, or only comments) gets the
// whole of to.YAML() appended.
func EditMetadata(src []byte, to Metadata) ([]byte, error) {
	from, err := ParseMetadata(src)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, yamlError(MetadataFile, 1, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		add, err := to.YAML()
		if err != nil {
			return nil, err
		}
		return appendText(src, add), nil
	}
	e := &editor{src: src, root: doc.Content[0], indent: detectIndent(doc.Content[0])}
	if from.Cover != to.Cover {
		// The cover is read from epub.cover_image first, then cover or
		// cover-image: change it where the file gives it.
		if from.EPUB.CoverImage != "" {
			to.EPUB.CoverImage = to.Cover
		} else {
			e.set([]string{"cover", "cover-image"}, false, one(to.Cover))
		}
	}
	for _, f := range metadataFields {
		old, now := f.get(from), f.get(to)
		if slices.Equal(old, now) {
			continue
		}
		e.set(f.keys, f.list, now)
	}
	e.editPDF(from.PDF, to.PDF)
	e.editEPUB(from.EPUB, to.EPUB)
	return e.apply()
}

// metadataField is one top-level entry of metadata.yaml: the keys that
// name it (the first for new entries), whether it is a list, and its
// value.
type metadataField struct {
	keys []string
	list bool
	get  func(Metadata) []string
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

var metadataFields = []metadataField{
	{[]string{"title"}, false, func(m Metadata) []string { return one(m.Title) }},
	{[]string{"subtitle"}, false, func(m Metadata) []string { return one(m.Subtitle) }},
	{[]string{"author", "authors", "creator"}, true, func(m Metadata) []string { return m.Authors }},
	{[]string{"language", "lang"}, false, func(m Metadata) []string { return one(m.Language) }},
	{[]string{"identifier"}, false, func(m Metadata) []string { return one(m.Identifier) }},
	{[]string{"isbn"}, false, func(m Metadata) []string { return one(m.ISBN) }},
	{[]string{"publisher"}, false, func(m Metadata) []string { return one(m.Publisher) }},
	{[]string{"date"}, false, func(m Metadata) []string { return one(m.Date) }},
	{[]string{"rights"}, false, func(m Metadata) []string { return one(m.Rights) }},
	{[]string{"description"}, false, func(m Metadata) []string { return one(m.Description) }},
	{[]string{"subject", "subjects", "keywords"}, true, func(m Metadata) []string { return m.Subjects }},
}

// editor collects the changes of one file: which top-level entries to
// rewrite (their pairs in root, changed in place) or remove, and which to
// add.
type editor struct {
	src     []byte
	root    *yaml.Node
	indent  int
	rewrite map[int]bool // index of a key in root.Content → rewrite its entry
	remove  map[int]bool
	add     []*yaml.Node // key, value, key, value, … appended at the end
}

// find returns the index in m.Content of the first key named by one of
// keys, or -1.
func find(m *yaml.Node, keys []string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if slices.Contains(keys, m.Content[i].Value) {
			return i
		}
	}
	return -1
}

// set gives the top-level entry named by keys the value now (none:
// remove it).
func (e *editor) set(keys []string, list bool, now []string) {
	i := find(e.root, keys)
	switch {
	case i < 0 && len(now) == 0:
	case i < 0:
		e.add = append(e.add, scalar(keys[0], 0), valueNode(nil, list, now))
	case len(now) == 0:
		e.mark(&e.remove, i)
	default:
		e.root.Content[i+1] = valueNode(e.root.Content[i+1], list, now)
		e.mark(&e.rewrite, i)
	}
}

func (e *editor) mark(m *map[int]bool, i int) {
	if *m == nil {
		*m = map[int]bool{}
	}
	(*m)[i] = true
}

// nested edits the entries of the mapping under one of keys (pdf, epub):
// changes is sub-key names → value (nil: remove). The whole entry is
// rewritten when anything in it changes.
func (e *editor) nested(keys []string, changes []subChange) {
	if len(changes) == 0 {
		return
	}
	i := find(e.root, keys)
	var m *yaml.Node
	if i >= 0 && e.root.Content[i+1].Kind == yaml.MappingNode {
		m = e.root.Content[i+1]
	} else {
		m = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	for _, c := range changes {
		j := find(m, c.keys)
		switch {
		case j < 0 && c.node == nil:
		case j < 0:
			m.Content = append(m.Content, scalar(c.keys[0], 0), c.node(nil))
		case c.node == nil:
			m.Content = slices.Delete(m.Content, j, j+2)
		default:
			m.Content[j+1] = c.node(m.Content[j+1])
		}
	}
	switch {
	case i < 0 && len(m.Content) > 0:
		e.add = append(e.add, scalar(keys[0], 0), m)
	case i < 0:
	case len(m.Content) == 0:
		e.mark(&e.remove, i)
	default:
		e.root.Content[i+1] = m
		e.mark(&e.rewrite, i)
	}
}

// subChange is one entry of a nested mapping: node builds its new value
// from the old one (nil when absent); a nil node removes the entry.
type subChange struct {
	keys []string
	node func(old *yaml.Node) *yaml.Node
}

func scalarChange(keys []string, old, now string) []subChange {
	if old == now {
		return nil
	}
	if now == "" {
		return []subChange{{keys: keys}}
	}
	return []subChange{{keys: keys, node: func(o *yaml.Node) *yaml.Node { return valueNode(o, false, []string{now}) }}}
}

func (e *editor) editPDF(old, now PDFOptions) {
	var cs []subChange
	cs = append(cs, scalarChange([]string{"page_size", "page-size"}, old.PageSize, now.PageSize)...)
	if old.Margins != now.Margins {
		if now.Margins == (Margins{}) {
			cs = append(cs, subChange{keys: []string{"margins", "margin"}})
		} else {
			cs = append(cs, subChange{keys: []string{"margins", "margin"}, node: func(o *yaml.Node) *yaml.Node { return marginsNode(o, now.Margins) }})
		}
	}
	cs = append(cs, scalarChange([]string{"font_family", "font-family"}, old.FontFamily, now.FontFamily)...)
	cs = append(cs, scalarChange([]string{"font_size", "font-size"}, old.FontSize, now.FontSize)...)
	e.nested([]string{"pdf"}, cs)
}

func (e *editor) editEPUB(old, now EPUBOptions) {
	var cs []subChange
	cs = append(cs, scalarChange([]string{"cover_image", "cover-image"}, old.CoverImage, now.CoverImage)...)
	cs = append(cs, scalarChange([]string{"stylesheet"}, old.Stylesheet, now.Stylesheet)...)
	e.nested([]string{"epub"}, cs)
}

// marginsNode keeps margins as one value while all four sides agree and
// the file gave one value; otherwise a mapping, edited in place.
func marginsNode(old *yaml.Node, m Margins) *yaml.Node {
	all := m.Top == m.Right && m.Right == m.Bottom && m.Bottom == m.Left
	if all && (old == nil || old.Kind == yaml.ScalarNode) {
		return valueNode(old, false, []string{m.Top})
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
	if old != nil && old.Kind == yaml.MappingNode {
		n = old
	}
	for _, side := range []struct {
		keys []string
		v    string
	}{{[]string{"top"}, m.Top}, {[]string{"right", "outside", "outer"}, m.Right}, {[]string{"bottom"}, m.Bottom}, {[]string{"left", "inside", "inner"}, m.Left}} {
		j := find(n, side.keys)
		switch {
		case j < 0 && side.v != "":
			n.Content = append(n.Content, scalar(side.keys[0], 0), valueNode(nil, false, []string{side.v}))
		case j >= 0 && side.v == "":
			n.Content = slices.Delete(n.Content, j, j+2)
		case j >= 0:
			n.Content[j+1] = valueNode(n.Content[j+1], false, []string{side.v})
		}
	}
	return n
}

// valueNode returns a node for now, in old's style where it has one: a
// single value stays a scalar (with its quoting or block style), a list
// keeps its flow or block style and its items' quoting.
func valueNode(old *yaml.Node, list bool, now []string) *yaml.Node {
	if len(now) == 1 && (old == nil || old.Kind == yaml.ScalarNode) {
		var style yaml.Style
		if old != nil {
			style = old.Style
		}
		n := scalar(now[0], style)
		if old != nil {
			n.LineComment = old.LineComment
		}
		return n
	}
	if !list && len(now) > 0 {
		return scalar(now[0], 0)
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	var item yaml.Style
	if old != nil {
		switch old.Kind {
		case yaml.SequenceNode:
			seq.Style, seq.LineComment = old.Style, old.LineComment
			if len(old.Content) > 0 {
				item = old.Content[0].Style
			}
		case yaml.ScalarNode:
			seq.Style, item = yaml.FlowStyle, old.Style // "author: A" grows into "author: [A, B]"
		}
	}
	for _, s := range now {
		seq.Content = append(seq.Content, scalar(s, item))
	}
	return seq
}

// scalar is a string node; a plain one is written as is when it reads
// back as the same string, quoted otherwise.
func scalar(v string, style yaml.Style) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: "!!str", Style: style}
	if style == 0 || style == yaml.FlowStyle {
		var probe yaml.Node
		// "1831" reads back as a number, which metadata takes as the
		// same text: keep such values plain, as a hand-written file has
		// them, rather than quote them.
		if yaml.Unmarshal([]byte(v), &probe) == nil && len(probe.Content) == 1 && probe.Content[0].Kind == yaml.ScalarNode &&
			probe.Content[0].Value == v && (probe.Content[0].Tag == "!!int" || probe.Content[0].Tag == "!!float") {
			n.Tag = probe.Content[0].Tag
		}
	}
	return n
}

// detectIndent is the indentation of the file's nested entries (2 when
// there are none).
func detectIndent(root *yaml.Node) int {
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := root.Content[i+1]
		if (v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 {
			if d := v.Content[0].Column - root.Content[i].Column; d > 0 {
				if v.Kind == yaml.SequenceNode {
					d -= 2 // "- " before the item
				}
				if d > 0 {
					return d
				}
			}
		}
	}
	return 2
}

// apply splices the rewritten, removed and added entries into the text.
func (e *editor) apply() ([]byte, error) {
	lines := splitLines(e.src)
	type span struct {
		from, to int // 0-based line indexes, to exclusive
		text     []byte
	}
	var spans []span
	for i := 0; i+1 < len(e.root.Content); i += 2 {
		if !e.rewrite[i] && !e.remove[i] {
			continue
		}
		from := e.root.Content[i].Line - 1
		to := len(lines)
		if i+2 < len(e.root.Content) {
			to = e.root.Content[i+2].Line - 1
		}
		// Blank and comment lines at the end belong to what follows (the
		// next entry's head comment) and stay.
		for to > from+1 && isBlankOrComment(lines[to-1]) {
			to--
		}
		var text []byte
		if e.rewrite[i] {
			k := *e.root.Content[i]
			k.HeadComment, k.FootComment = "", "" // they are outside the span, kept as text
			v := *e.root.Content[i+1]
			v.FootComment = ""
			if v.Kind == yaml.ScalarNode && v.Style == yaml.FoldedStyle {
				text = e.folded(lines[from:to], &k, &v)
			}
			if text == nil {
				var err error
				if text, err = e.encode(&k, &v); err != nil {
					return nil, err
				}
			}
		}
		spans = append(spans, span{from, to, text})
	}
	var out bytes.Buffer
	next := 0
	for _, s := range spans {
		for _, l := range lines[next:s.from] {
			out.Write(l)
		}
		out.Write(s.text)
		next = s.to
	}
	for _, l := range lines[next:] {
		out.Write(l)
	}
	result := out.Bytes()
	for i := 0; i+1 < len(e.add); i += 2 {
		text, err := e.encode(e.add[i], e.add[i+1])
		if err != nil {
			return nil, err
		}
		result = appendText(result, text)
	}
	return result, nil
}

// folded writes a top-level entry whose value is a folded block (">")
// the way its author did: the same header, the text wrapped at the width
// of the old lines, paragraphs apart. The YAML library would write the
// whole text on one line. It returns nil for text that a folded block
// cannot carry as written (leading spaces, tabs), which is then encoded
// by the library.
func (e *editor) folded(old [][]byte, k, v *yaml.Node) []byte {
	if len(old) == 0 || strings.ContainsAny(v.Value, "\t\r") {
		return nil
	}
	first := string(old[0])
	colon := strings.Index(first, ":")
	if colon < 0 {
		return nil
	}
	header := strings.TrimSpace(first[colon+1:])
	if c := strings.Index(header, " #"); c >= 0 {
		header = strings.TrimSpace(header[:c])
	}
	if !strings.HasPrefix(header, ">") || strings.ContainsAny(header, "0123456789") {
		return nil
	}
	width := 0
	for _, l := range old[1:] {
		width = max(width, len(strings.TrimRight(string(l), "\r\n")))
	}
	width = min(max(width, 40), 100)
	pad := strings.Repeat(" ", k.Column-1+e.indent)
	var b strings.Builder
	b.WriteString(strings.TrimRight(first[:colon+1], " ") + " " + header)
	if v.LineComment != "" {
		b.WriteString(" " + v.LineComment)
	}
	b.WriteByte('\n')
	for i, para := range strings.Split(strings.TrimRight(v.Value, "\n"), "\n") {
		if strings.HasPrefix(para, " ") {
			return nil
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		line := pad
		for _, w := range strings.Fields(para) {
			if len(line) > len(pad) && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = pad
			}
			if len(line) > len(pad) {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	return []byte(b.String())
}

// encode writes one entry at the top level with the file's indentation.
func (e *editor) encode(k, v *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(e.indent)
	if err := enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// splitLines splits text into lines that keep their line endings.
func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func isBlankOrComment(l []byte) bool {
	t := strings.TrimSpace(string(l))
	return t == "" || strings.HasPrefix(t, "#")
}

// appendText adds text after src, on a line of its own.
func appendText(src, text []byte) []byte {
	out := append([]byte(nil), src...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, text...)
}
