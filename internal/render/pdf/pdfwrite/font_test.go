package pdfwrite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/render/pdf/fonts"
	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// TestAliasAndNotdef: an alias CID shows its glyph and extracts as its
// own text, beside the glyph's own CID and text; glyph 0 (.notdef)
// extracts as U+FFFD whatever it was recorded for. Checked with qpdf
// and pdftotext on a one-page file.
func TestAliasAndNotdef(t *testing.T) {
	sf, err := sfnt.Parse(fonts.TTF(fonts.Regular))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := New(&buf)
	f := w.NewFont(sf)
	// The font's cmap is not exposed: these ids are Noto Serif's (post
	// names "a" and "hyphen"); the text pdftotext reads back proves them.
	const a, hy = 68, 16 // 'a' and '-' in Noto Serif (post names "a", "hyphen")
	f.Use(a, "a")
	f.Use(hy, "-")
	f.Use(0, "李")
	soft := f.Alias(hy, "\u00ad")
	if int(soft) < sf.NumGlyphs {
		t.Fatalf("Alias = %d, want a CID past the %d glyphs", soft, sf.NumGlyphs)
	}
	if again := f.Alias(hy, "\u00ad"); again != soft {
		t.Errorf("Alias twice = %d and %d", soft, again)
	}
	if f.Width(soft) != f.Width(hy) || f.Width(soft) == 0 {
		t.Errorf("alias width %v, glyph width %v", f.Width(soft), f.Width(hy))
	}
	hex := func(g uint16) string { return string([]byte{hexd[g>>12], hexd[g>>8&15], hexd[g>>4&15], hexd[g&15]}) }
	content := "BT /F0 24 Tf 72 720 Td <" + hex(a) + hex(hy) + hex(a) + "> Tj 0 -40 Td <" + hex(a) + hex(soft) + "> Tj 0 -40 Td <" + hex(0) + hex(a) + "> Tj ET"
	catalog, pages, page, cs, info := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
	w.Stream(cs, "", []byte(content), true)
	w.Object(page, "<< /Type /Page /Parent "+pages.String()+" /MediaBox [0 0 612 792] /Resources << /Font << /F0 "+f.Ref.String()+" >> >> /Contents "+cs.String()+" >>")
	w.Object(pages, "<< /Type /Pages /Kids ["+page.String()+"] /Count 1 >>")
	w.Object(catalog, "<< /Type /Catalog /Pages "+pages.String()+" >>")
	w.Object(info, "<< /Title "+Text("Alias")+" >>")
	if err := w.Close(catalog, info, []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "alias.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"qpdf", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (apt-get install -y qpdf poppler-utils)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	if out, err := exec.Command("qpdf", "--check", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(out))
	if want := []string{"a-a", "a\u00ad", "\ufffda"}; strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Errorf("pdftotext: %q, want %q", lines, want)
	}
}

const hexd = "0123456789ABCDEF"

// TestAliasDrawsItsGlyph: a page showing a glyph under an alias CID is
// drawn exactly as the page showing the glyph's own CID (the
// CIDToGIDMap maps the alias back), by poppler's rasteriser.
func TestAliasDrawsItsGlyph(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftoppm not installed (apt-get install -y poppler-utils)")
		}
		t.Skip("pdftoppm not installed")
	}
	sf, err := sfnt.Parse(fonts.TTF(fonts.Regular))
	if err != nil {
		t.Fatal(err)
	}
	const a, hy = 68, 16
	dir := t.TempDir()
	page := func(name string, alias bool) []byte {
		var buf bytes.Buffer
		w := New(&buf)
		f := w.NewFont(sf)
		f.Use(a, "a")
		g := uint16(hy)
		if alias {
			g = f.Alias(hy, "\u00ad")
		} else {
			f.Use(hy, "-")
		}
		hex := string([]byte{hexd[g>>12], hexd[g>>8&15], hexd[g>>4&15], hexd[g&15]})
		content := "BT /F0 48 Tf 10 20 Td <0044" + hex + "0044> Tj ET"
		catalog, pages, pg, cs, info := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
		w.Stream(cs, "", []byte(content), true)
		w.Object(pg, "<< /Type /Page /Parent "+pages.String()+" /MediaBox [0 0 120 80] /Resources << /Font << /F0 "+f.Ref.String()+" >> >> /Contents "+cs.String()+" >>")
		w.Object(pages, "<< /Type /Pages /Kids ["+pg.String()+"] /Count 1 >>")
		w.Object(catalog, "<< /Type /Catalog /Pages "+pages.String()+" >>")
		w.Object(info, "<< >>")
		if err := w.Close(catalog, info, []byte("0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftoppm", "-r", "72", "-gray", p).Output()
		if err != nil {
			t.Fatalf("pdftoppm: %v", err)
		}
		return out
	}
	own, aliased := page("own", false), page("alias", true)
	if !bytes.Equal(own, aliased) {
		t.Error("the alias CID draws differently from its glyph")
	}
	blank := bytes.Count(own, []byte{0xff})
	if blank == len(own)-len("P5\n120 80\n255\n") {
		t.Error("nothing drawn")
	}
}
