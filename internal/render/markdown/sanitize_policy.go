package markdown

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// AllowedSchemes are the URL schemes a link may use. Relative URLs are
// allowed too; they are resolved inside the book or dropped.
var AllowedSchemes = []string{"http", "https", "mailto"}

var (
	// relativeImage matches an image src that is a plain relative path: no
	// scheme (no ":" at all), not host-relative ("//host", or "\\host",
	// which browsers read the same way), not absolute, no spaces or control
	// characters. Images come only from the book's own files: a remote image
	// is a tracking pixel in the reader's hands, and a data: image bypasses
	// the checks of the asset.
	relativeImage = regexp.MustCompile(`^[^\\/:\x00-\x20][^\\:\x00-\x20]*$`)
	// No {1,n} counts on Unicode classes: Go compiles each repetition
	// separately, and {1,200} of \p{L} cost 11 MB and 20 ms at every
	// process start. Lengths are bounded by the chapter size limit.
	headingID     = regexp.MustCompile(`^[\p{L}\p{N}_.:-]+$`)
	footnoteID    = regexp.MustCompile(`^fn(ref)?:[\p{L}\p{N}_.:-]+$`)
	alignValue    = regexp.MustCompile(`^(left|center|right)$`)
	olStart       = regexp.MustCompile(`^[0-9]{1,9}$`)
	codeLanguage  = regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)
	footnoteClass = regexp.MustCompile(`^(footnote-ref|footnote-backref)$`)
	footnotesDiv  = regexp.MustCompile(`^footnotes$`)
	footnoteRole  = regexp.MustCompile(`^(doc-noteref|doc-backlink|doc-endnotes)$`)
)

// Policy returns the sanitiser's allowlist. It starts from the original
// system's list — p br strong em u h1–h6 blockquote code pre ul ol li hr img
// a, with img: src alt title and a: href title — and adds only what books
// need, each addition with its reason below. Everything else is removed:
// script, style, iframe, object, embed, form, input, base, meta, link, svg,
// math, every on* handler and every style attribute (no inline CSS, so the
// HTML book can keep a strict Content-Security-Policy). Text inside removed
// elements is kept, except for script and style, whose content goes too.
//
// Links may use http, https, mailto or a relative URL; bluemonday parses
// each URL and checks its scheme after decoding entities, so
// "jav&#x09;ascript:" and "JaVaScRiPt:" fail like "javascript:". Images may
// only use a relative path (see relativeImage).
func Policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	// The original allowlist.
	p.AllowElements("p", "br", "strong", "em", "u",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "code", "pre", "ul", "ol", "li", "hr")
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("alt", "title").OnElements("img")
	p.AllowAttrs("src").Matching(relativeImage).OnElements("img")
	p.AllowURLSchemes(AllowedSchemes...)
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)

	// Heading IDs: the targets of internal links ("02-storm.md#dawn") and
	// of the table of contents. The renderers prefix them per chapter.
	p.AllowAttrs("id").Matching(headingID).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	// Ordered lists that start at another number ("3. Third") carry start.
	p.AllowAttrs("start").Matching(olStart).OnElements("ol")
	// GFM tables, which goldmark emits with align on cells when columns are
	// aligned; the renderers turn align into a class.
	p.AllowElements("table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption")
	p.AllowAttrs("align").Matching(alignValue).OnElements("th", "td")
	// GFM strikethrough (~~text~~), and s for the same in raw HTML.
	p.AllowElements("del", "s")
	// Superscript and subscript: footnote markers, ordinals, chemistry.
	p.AllowElements("sup", "sub")
	// Footnotes, exactly as goldmark emits them: the reference
	// <sup id="fnref:1"><a href="#fn:1" class="footnote-ref"
	// role="doc-noteref">, the list <div class="footnotes"
	// role="doc-endnotes"> with <li id="fn:1"> and the back link
	// class="footnote-backref" role="doc-backlink". The ARIA roles tell
	// screen readers what the links are.
	p.AllowAttrs("id").Matching(footnoteID).OnElements("sup", "li")
	p.AllowElements("div")
	p.AllowAttrs("class").Matching(footnotesDiv).OnElements("div")
	p.AllowAttrs("class").Matching(footnoteClass).OnElements("a")
	p.AllowAttrs("role").Matching(footnoteRole).OnElements("a", "div")
	// Figures with captions, written as raw HTML around an image.
	p.AllowElements("figure", "figcaption")
	// Fenced code blocks carry their language as a class for styling.
	p.AllowAttrs("class").Matching(codeLanguage).OnElements("code")
	return p
}
