package build_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/testkit"
)

// pdfObjects is a PDF's objects as qpdf's JSON (version 2) gives them:
// by "obj:N 0 R", each a value or a stream (dict and, decoded, data).
type pdfObjects map[string]struct {
	Value  any `json:"value"`
	Stream *struct {
		Dict any    `json:"dict"`
		Data string `json:"data"`
	} `json:"stream"`
}

func readPDFObjects(t *testing.T, path string) pdfObjects {
	t.Helper()
	out := output(t, "qpdf", "--json=2", "--json-key=qpdf", "--json-stream-data=inline", "--decode-level=generalized", path)
	var doc struct {
		QPDF []json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.QPDF) < 2 {
		t.Fatalf("qpdf --json: %v", err)
	}
	var objs pdfObjects
	if err := json.Unmarshal(doc.QPDF[1], &objs); err != nil {
		t.Fatal(err)
	}
	return objs
}

// dict returns the dictionary of the object ref ("12 0 R") or of a
// stream; nil if there is none.
func (o pdfObjects) dict(ref any) map[string]any {
	if d, ok := ref.(map[string]any); ok {
		return d
	}
	s, _ := ref.(string)
	x, ok := o["obj:"+s]
	if !ok {
		return nil
	}
	if x.Stream != nil {
		d, _ := x.Stream.Dict.(map[string]any)
		return d
	}
	d, _ := x.Value.(map[string]any)
	return d
}

func (o pdfObjects) data(t *testing.T, ref string) string {
	t.Helper()
	x := o["obj:"+ref]
	if x.Stream == nil {
		t.Fatalf("%s is not a stream", ref)
	}
	b, err := base64.StdEncoding.DecodeString(x.Stream.Data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// selem is a structure element read back from a PDF.
type selem struct {
	ref, typ, alt string
	id            string // /ID
	kids          []*selem
	parent        *selem
	mcrs          []mcr // its marked content and annotations, in order
}

type mcr struct {
	page  string // page object ref
	mcid  int    // -1 for an annotation
	annot string // annotation ref
}

// taggedPDF is the structure of a tagged PDF.
type taggedPDF struct {
	objs    pdfObjects
	catalog map[string]any
	root    *selem
	byRef   map[string]*selem
	pages   []string // page refs in order
}

func readTagged(t *testing.T, path string) *taggedPDF {
	t.Helper()
	objs := readPDFObjects(t, path)
	tp := &taggedPDF{objs: objs, byRef: map[string]*selem{}}
	for _, x := range objs {
		if d, ok := x.Value.(map[string]any); ok && d["/Type"] == "/Catalog" {
			tp.catalog = d
		}
	}
	if tp.catalog == nil {
		t.Fatal("no catalog")
	}
	var pages func(ref any)
	pages = func(ref any) {
		d := objs.dict(ref)
		if d["/Type"] == "/Page" {
			tp.pages = append(tp.pages, ref.(string))
		}
		for _, k := range list(d["/Kids"]) {
			pages(k)
		}
	}
	pages(tp.catalog["/Pages"])
	str := objs.dict(tp.catalog["/StructTreeRoot"])
	if str == nil || str["/Type"] != "/StructTreeRoot" {
		t.Fatalf("catalog has no /StructTreeRoot: %v", tp.catalog)
	}
	var walk func(ref string, parent *selem) *selem
	walk = func(ref string, parent *selem) *selem {
		d := objs.dict(ref)
		if d == nil || d["/Type"] != "/StructElem" {
			t.Fatalf("%s is not a structure element: %v", ref, d)
		}
		if _, dup := tp.byRef[ref]; dup {
			t.Fatalf("structure element %s twice in the tree", ref)
		}
		e := &selem{ref: ref, typ: strings.TrimPrefix(d["/S"].(string), "/"), parent: parent}
		tp.byRef[ref] = e
		if a, ok := d["/Alt"].(string); ok {
			e.alt = strings.TrimPrefix(a, "u:")
		}
		e.id, _ = d["/ID"].(string)
		pg, _ := d["/Pg"].(string)
		for _, k := range list(d["/K"]) {
			switch k := k.(type) {
			case float64:
				if pg == "" {
					t.Errorf("%s: MCID %v without /Pg", ref, k)
				}
				e.mcrs = append(e.mcrs, mcr{page: pg, mcid: int(k)})
			case string:
				e.kids = append(e.kids, walk(k, e))
			case map[string]any:
				switch k["/Type"] {
				case "/MCR":
					e.mcrs = append(e.mcrs, mcr{page: k["/Pg"].(string), mcid: int(k["/MCID"].(float64))})
				case "/OBJR":
					e.mcrs = append(e.mcrs, mcr{mcid: -1, annot: k["/Obj"].(string)})
				default:
					t.Errorf("%s: unknown kid %v", ref, k)
				}
			}
		}
		return e
	}
	ks := list(str["/K"])
	if len(ks) != 1 {
		t.Fatalf("StructTreeRoot /K = %v, want one Document", str["/K"])
	}
	tp.root = walk(ks[0].(string), nil)

	// The ParentTree: a flat number tree (Nums in its root).
	pt := objs.dict(str["/ParentTree"])
	nums := list(pt["/Nums"])
	parents := map[int]any{}
	for i := 0; i+1 < len(nums); i += 2 {
		parents[int(nums[i].(float64))] = nums[i+1]
	}
	tp.checkMarkedContent(t, parents)
	if next := int(str["/ParentTreeNextKey"].(float64)); next != len(parents) {
		t.Errorf("ParentTreeNextKey %d, %d keys", next, len(parents))
	}
	return tp
}

var (
	mcidRE = regexp.MustCompile(`^/(\w+) <</MCID (\d+)>> BDC$`)
	textOp = regexp.MustCompile(`(TJ|Tj|Do|l S)$`)
)

// checkMarkedContent checks every page's content stream: marked content
// properly nested; every text, image and rule inside an MCID sequence
// or an artifact, never both; every MCID used once, by the element the
// ParentTree names, whose type it has and which lists it exactly once;
// every link annotation in the tree by way of an OBJR.
func (tp *taggedPDF) checkMarkedContent(t *testing.T, parents map[int]any) {
	t.Helper()
	owner := map[mcr]*selem{}
	for _, e := range tp.byRef {
		for _, m := range e.mcrs {
			if prev, dup := owner[m]; dup {
				t.Errorf("%v referred to by %s and %s", m, prev.ref, e.ref)
			}
			owner[m] = e
		}
	}
	used := map[mcr]bool{}
	for pi, pref := range tp.pages {
		pd := tp.objs.dict(pref)
		key, ok := pd["/StructParents"].(float64)
		if !ok {
			t.Fatalf("page %d has no /StructParents", pi+1)
		}
		if pd["/Tabs"] != "/S" {
			t.Errorf("page %d: /Tabs %v, want /S", pi+1, pd["/Tabs"])
		}
		pt := list(parents[int(key)])
		content := tp.objs.data(t, pd["/Contents"].(string))
		var stack []string // "mcid", "artifact", "span"
		seen := 0
		sc := bufio.NewScanner(strings.NewReader(content))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			ln := sc.Text()
			switch {
			case mcidRE.MatchString(ln):
				m := mcidRE.FindStringSubmatch(ln)
				if slices.Contains(stack, "mcid") || slices.Contains(stack, "artifact") {
					t.Errorf("page %d: %s nested in %v", pi+1, ln, stack)
				}
				id, _ := strconv.Atoi(m[2])
				k := mcr{page: pref, mcid: id}
				if used[k] {
					t.Errorf("page %d: MCID %d used twice", pi+1, id)
				}
				used[k] = true
				seen++
				e := owner[k]
				switch {
				case e == nil:
					t.Errorf("page %d: MCID %d belongs to no structure element", pi+1, id)
				case e.typ != m[1]:
					t.Errorf("page %d: MCID %d tagged /%s, its element is %s", pi+1, id, m[1], e.typ)
				case id >= len(pt) || pt[id] != e.ref:
					t.Errorf("page %d: ParentTree gives MCID %d to %v, the tree to %s", pi+1, id, pt, e.ref)
				}
				stack = append(stack, "mcid")
			case strings.HasPrefix(ln, "/Artifact"):
				if slices.Contains(stack, "mcid") {
					t.Errorf("page %d: artifact inside content: %v", pi+1, stack)
				}
				stack = append(stack, "artifact")
			case strings.HasPrefix(ln, "/Span"):
				stack = append(stack, "span")
			case strings.HasSuffix(ln, "BDC") || strings.HasSuffix(ln, "BMC"):
				t.Errorf("page %d: unexpected marked content %q", pi+1, ln)
				stack = append(stack, "?")
			case ln == "EMC":
				if len(stack) == 0 {
					t.Fatalf("page %d: EMC without BDC", pi+1)
				}
				stack = stack[:len(stack)-1]
			case ln == "ET":
				if len(stack) > 0 {
					t.Errorf("page %d: marked content %v open at ET", pi+1, stack)
				}
			case textOp.MatchString(ln):
				if !slices.Contains(stack, "mcid") && !slices.Contains(stack, "artifact") {
					t.Errorf("page %d: %q neither content nor artifact", pi+1, ln)
				}
			}
		}
		if len(stack) > 0 {
			t.Errorf("page %d: marked content %v never closed", pi+1, stack)
		}
		if seen != len(pt) {
			t.Errorf("page %d: %d MCIDs, the ParentTree lists %d", pi+1, seen, len(pt))
		}
		for _, a := range list(pd["/Annots"]) {
			ad := tp.objs.dict(a)
			if ad == nil || ad["/Subtype"] != "/Link" {
				continue
			}
			sp, ok := ad["/StructParent"].(float64)
			if !ok {
				t.Errorf("page %d: link %s has no /StructParent", pi+1, a)
				continue
			}
			e := tp.byRef[strings.TrimSpace(toString(parents[int(sp)]))]
			if e == nil || e.typ != "Link" || !slices.Contains(e.mcrs, mcr{mcid: -1, annot: a.(string)}) {
				t.Errorf("page %d: link %s: ParentTree gives %v, not a Link with its OBJR", pi+1, a, parents[int(sp)])
			}
			if _, ok := ad["/Contents"]; !ok {
				t.Errorf("page %d: link %s has no /Contents", pi+1, a)
			}
		}
	}
	for m, e := range owner {
		if m.mcid >= 0 && !used[m] {
			t.Errorf("%s refers to MCID %d of %s, which no page has", e.ref, m.mcid, m.page)
		}
	}
}

func toString(v any) string { s, _ := v.(string); return s }

// types returns the element types of the tree in reading order
// (depth first), each indented by its depth.
func (e *selem) types(depth int, out []string) []string {
	out = append(out, strings.Repeat(" ", depth)+e.typ)
	for _, k := range e.kids {
		out = k.types(depth+1, out)
	}
	return out
}

func (e *selem) all(typ string) []*selem {
	var out []*selem
	if e.typ == typ {
		out = append(out, e)
	}
	for _, k := range e.kids {
		out = append(out, k.all(typ)...)
	}
	return out
}

// checkDocumentLevel: /Lang, /MarkInfo, the viewer shows the title, the
// info and XMP metadata say PDF/UA-1, qpdf finds nothing wrong.
func checkDocumentLevel(t *testing.T, path string, tp *taggedPDF, lang string) {
	t.Helper()
	if got := tp.catalog["/Lang"]; got != "u:"+lang {
		t.Errorf("/Lang = %v, want %s", got, lang)
	}
	if mi, _ := tp.catalog["/MarkInfo"].(map[string]any); mi["/Marked"] != true {
		t.Errorf("/MarkInfo = %v", tp.catalog["/MarkInfo"])
	}
	if vp, _ := tp.catalog["/ViewerPreferences"].(map[string]any); vp["/DisplayDocTitle"] != true {
		t.Errorf("/ViewerPreferences = %v", tp.catalog["/ViewerPreferences"])
	}
	xmp := tp.objs.data(t, tp.catalog["/Metadata"].(string))
	if !strings.Contains(xmp, `xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"`) || !strings.Contains(xmp, "<pdfuaid:part>1</pdfuaid:part>") {
		t.Errorf("XMP lacks pdfuaid:part 1:\n%s", xmp)
	}
	if testkit.WellFormedXML([]byte(xmp[strings.Index(xmp, "<x:xmpmeta"):strings.Index(xmp, "<?xpacket end")])) != nil {
		t.Errorf("XMP is not well-formed")
	}
	if info := output(t, "pdfinfo", path); !regexp.MustCompile(`(?m)^Title:\s+\S`).MatchString(info) {
		t.Errorf("no /Title in the info:\n%s", info)
	}
	if got := output(t, "qpdf", "--check", path); !strings.Contains(got, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check:\n%s", got)
	}
	if tp.root.typ != "Document" {
		t.Errorf("root %s, want Document", tp.root.typ)
	}
}

func buildPDF(t *testing.T, dir string) string {
	t.Helper()
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{build.PDF}})
	if err != nil || len(res.Artifacts) != 1 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	return res.Artifacts[0].Path
}

// TestTaggedPDFExample: the bundled book, with a list chapter added,
// comes out as a PDF/UA-1 structure: the front matter and each chapter a
// Sect, headings, paragraphs, a figure with its alt text, a table with
// column headers, a footnote read after the paragraph that refers to it,
// links holding their annotations, lists with labels, code.
func TestTaggedPDFExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "book")
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "build"))
	lists := "# Lists\n\nWhat the keeper keeps:\n\n- oil\n- wicks, trimmed\n\n1. Light the lamp.\n2. Wind the clock.\n\n- [x] logged\n- [ ] painted\n\n```\nlamp.on()\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "chapters", "05-lists.md"), []byte(lists), 0o644); err != nil {
		t.Fatal(err)
	}
	path := buildPDF(t, dir)
	tp := readTagged(t, path)
	checkDocumentLevel(t, path, tp, "en-GB")

	root := tp.root
	if len(root.kids) != 6 || slices.ContainsFunc(root.kids, func(e *selem) bool { return e.typ != "Sect" }) {
		t.Fatalf("Document's kids: %v, want 6 Sects (front matter, 5 chapters)", root.types(0, nil))
	}
	for i, s := range root.kids[1:] {
		if s.kids[0].typ != "H1" {
			t.Errorf("chapter %d starts with %s, not H1", i+1, s.kids[0].typ)
		}
	}
	front := strings.Join(root.kids[0].types(0, nil), "\n")
	if !strings.Contains(front, " H1\n TOC\n  TOCI\n   Link\n") {
		t.Errorf("front matter: no Contents heading and TOC of links:\n%s", front)
	}
	figs := root.all("Figure")
	if len(figs) != 1 || !strings.HasPrefix(figs[0].alt, "A hand-drawn chart") {
		t.Errorf("figures %v, want one with the chart's alt text", figs)
	}
	tables := root.all("Table")
	if len(tables) != 1 {
		t.Fatalf("%d tables", len(tables))
	}
	if got := strings.Join(tables[0].types(0, nil)[:7], ","); got != "Table, TR,  TH,  TH,  TH,  TH, TR" {
		t.Errorf("table: %s", got)
	}
	notes := root.all("Note")
	if len(notes) != 1 {
		t.Fatalf("%d notes", len(notes))
	}
	// The note follows the paragraph with its reference, a Link.
	sib := notes[0].parent.kids
	i := slices.Index(sib, notes[0])
	// (Its reference is in the chapter's first paragraph, not at its end.)
	if i < 1 || i == len(sib)-1 || sib[i-1].typ != "P" || len(sib[i-1].all("Link")) == 0 {
		t.Errorf("the note does not follow a paragraph with a link: %v", notes[0].parent.types(0, nil))
	}
	if notes[0].id == "" {
		t.Errorf("the note has no /ID")
	}
	if len(notes[0].all("Link")) != 1 {
		t.Errorf("the note's number does not link back")
	}
	want := []string{" H1", " P", " L", "  LI", "   Lbl", "   LBody", "    P", "  LI", "   Lbl", "   LBody", "    P",
		" L", "  LI", "   Lbl", "   LBody", "    P", "  LI", "   Lbl", "   LBody", "    P",
		" L", "  LI", "   Lbl", "   LBody", "    P", "  LI", "   Lbl", "   LBody", "    P", " Code"}
	got := slices.DeleteFunc(root.kids[5].types(0, nil)[1:], func(s string) bool { return strings.TrimSpace(s) == "Link" })
	if !slices.Equal(got, want) {
		t.Errorf("list chapter:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := len(root.all("Link")); got < 6 {
		t.Errorf("%d links", got)
	}
	// Running heads and folios are artifacts.
	heads, folios := 0, 0
	for _, pg := range tp.pages {
		c := tp.objs.data(t, tp.objs.dict(pg)["/Contents"].(string))
		heads += strings.Count(c, "/Artifact << /Type /Pagination /Subtype /Header >> BDC")
		folios += strings.Count(c, "/Artifact << /Type /Pagination /Subtype /Footer >> BDC")
	}
	if heads == 0 || folios == 0 {
		t.Errorf("%d running heads and %d folios marked as artifacts", heads, folios)
	}
}

// TestTaggedPDFFrankenstein: the corpus's structure: a heading per
// chapter, its paragraphs, a paragraph broken across pages with one MCID
// on each, every MCID accounted for (readTagged).
func TestTaggedPDFFrankenstein(t *testing.T) {
	path := buildPDF(t, testkit.Corpus(t))
	tp := readTagged(t, path)
	checkDocumentLevel(t, path, tp, "en-GB")
	if n := len(tp.root.kids); n < 2 {
		t.Fatalf("%d sections", n)
	}
	chapters := tp.root.kids[1:]
	ps, split := 0, 0
	for _, s := range chapters {
		if s.kids[0].typ != "H1" {
			t.Errorf("a chapter starts with %s", s.kids[0].typ)
		}
		for _, p := range s.all("P") {
			ps++
			pages := map[string]bool{}
			for _, m := range p.mcrs {
				if m.mcid >= 0 {
					pages[m.page] = true
				}
			}
			if len(pages) > 1 {
				split++
			}
		}
	}
	if ps < 700 || split < 100 {
		t.Errorf("%d paragraphs, %d across pages: too few", ps, split)
	}
	ids := map[string]bool{}
	for _, n := range tp.root.all("Note") {
		if n.id == "" || ids[n.id] {
			t.Errorf("note %s: /ID %q missing or not unique", n.ref, n.id)
		}
		ids[n.id] = true
	}
	if h := len(tp.root.all("H1")); h != len(chapters)+1 {
		t.Errorf("%d H1 for %d chapters and the contents", h, len(chapters))
	}
	for _, p := range tp.root.all("P") {
		if len(p.mcrs) == 0 && len(p.kids) == 0 {
			t.Errorf("empty paragraph %s", p.ref)
		}
	}
}
