package pdfwrite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/render/pdf/fonts"
	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{12, "12"}, {0.5, "0.5"}, {-3.125, "-3.125"}, {1.0004, "1"}, {-0.0001, "0"}, {432, "432"}}
	for _, tt := range tests {
		if got := Num(tt.in); got != tt.want {
			t.Errorf("Num(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(AppendNum(nil, tt.in)); got != tt.want {
			t.Errorf("AppendNum(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTextAndName(t *testing.T) {
	if got, want := Text("a (b) \\c"), `(a \(b\) \\c)`; got != want {
		t.Errorf("Text = %s, want %s", got, want)
	}
	if got, want := Text("é"), "<FEFF00E9>"; got != want {
		t.Errorf("Text = %s, want %s", got, want)
	}
	if got, want := Name("A B/c#"), "/A#20B#2Fc#23"; got != want {
		t.Errorf("Name = %s, want %s", got, want)
	}
}

// TestMinimalPDF writes a one-page file with an embedded subset font and
// has qpdf and pdffonts check it.
func TestMinimalPDF(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf)
	sf, err := sfnt.Parse(fonts.TTF(fonts.Regular))
	if err != nil {
		t.Fatal(err)
	}
	f := w.NewFont(sf)
	f.Use(3, " ")
	catalog, pages, page, content, info := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
	w.Stream(content, "", []byte("BT /F0 12 Tf 72 720 Td <0003> Tj ET"), true)
	w.Object(page, "<< /Type /Page /Parent "+pages.String()+" /MediaBox [0 0 612 792] /Resources << /Font << /F0 "+f.Ref.String()+" >> >> /Contents "+content.String()+" >>")
	w.Object(pages, "<< /Type /Pages /Kids ["+page.String()+"] /Count 1 >>")
	w.Object(catalog, "<< /Type /Catalog /Pages "+pages.String()+" >>")
	w.Object(info, "<< /Title "+Text("Test")+" >>")
	if err := w.Close(catalog, info, []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-1.7")) {
		t.Error("no PDF header")
	}
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qpdf not installed")
		}
		t.Skip("qpdf not installed")
	}
	p := filepath.Join(t.TempDir(), "min.pdf")
	os.WriteFile(p, buf.Bytes(), 0o644)
	out, err := exec.Command(qpdf, "--check", p).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

func TestUnwrittenObjectIsAnError(t *testing.T) {
	w := New(&bytes.Buffer{})
	r := w.Alloc()
	if err := w.Close(r, r, nil); err == nil {
		t.Error("Close with an allocated, unwritten object succeeded")
	}
}

// TestPackedObjects: objects packed into object streams, more than one
// stream's worth, are found through the cross-reference stream by qpdf,
// which finds the file clean.
func TestPackedObjects(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf)
	catalog, pages, page, info := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
	w.Object(page, "<< /Type /Page /Parent "+pages.String()+" /MediaBox [0 0 612 792] >>")
	w.Object(pages, "<< /Type /Pages /Kids ["+page.String()+"] /Count 1 >>")
	var last Ref
	for i := range objStmSize + 5 {
		last = w.Alloc()
		w.Packed(last, "<< /N "+strconv.Itoa(i)+" >>")
	}
	w.Object(catalog, "<< /Type /Catalog /Pages "+pages.String()+" /Last "+last.String()+" >>")
	w.Object(info, "<< /Title "+Text("Test")+" >>")
	if err := w.Close(catalog, info, []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("\nxref\n")) || !bytes.Contains(buf.Bytes(), []byte("/Type /XRef")) {
		t.Error("no cross-reference stream")
	}
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qpdf not installed")
		}
		t.Skip("qpdf not installed")
	}
	p := filepath.Join(t.TempDir(), "packed.pdf")
	os.WriteFile(p, buf.Bytes(), 0o644)
	out, err := exec.Command(qpdf, "--check", p).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	out, err = exec.Command(qpdf, "--show-object="+strconv.Itoa(int(last)), p).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "<< /N "+strconv.Itoa(objStmSize+4)+" >>" {
		t.Errorf("qpdf --show-object=%d: %v %s", last, err, out)
	}
}
