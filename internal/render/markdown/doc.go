// Package markdown turns chapter Markdown into HTML that is safe to show:
// rendered with the book dialect (manuscript.Dialect), then sanitised with
// an allowlist policy ([Policy]), then rewritten as a tree for one output
// (links to chapters and images resolved inside the book, IDs made unique,
// table alignment as classes), and serialised as HTML or XHTML.
//
// The order is the security argument. The original system sanitised the
// Markdown source (flaw #7): Markdown then turned "[x](javascript:alert(1))"
// into a live link after the check. Here the sanitiser sees the final HTML,
// where every Markdown construct has become an element and an attribute,
// and nothing is rendered after it: the tree rewrite only removes
// attributes or sets values built by this package, and the serialisers
// escape every text and attribute value.
//
// The same sanitised tree feeds the dashboard preview, the HTML book and the
// EPUB, so one test corpus (testdata/xss) and one fuzz test cover all three.
//
// Rendering takes a context and stops soon after it ends (a preview whose
// client has gone, a stopped build): see RenderChapter.
package markdown
