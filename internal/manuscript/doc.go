// Package manuscript is the model of a book folder (CONTRACT §3): its
// metadata.yaml, its chapters/NN-slug.md files and the assets they refer to.
//
// A book folder is untrusted input: it may come from an upload. So every
// file is reached through an [os.Root], which confines "..", absolute paths
// and symbolic links to the book folder at open time (the original system's
// startswith() path check is the flaw this replaces); every file has a size
// limit; YAML is parsed with limits on size, depth and node count and without
// aliases (no "billion laughs"); chapter Markdown is scanned, in one linear
// pass before the parser sees it, for the shapes that would make parsing
// super-linear or nest deeper than [Limits].MaxNesting (see
// markdown_shape.go), so that parsing any accepted chapter costs at most a
// constant per byte; and bad input never panics: it yields an [*Error] that
// prints as "file:line: message".
//
// The Markdown dialect of the chapters is defined here too ([Dialect]),
// because the manuscript needs the structure of a chapter (its first heading,
// its links and images) to load and check it; the render packages use the same
// dialect to turn a chapter into HTML.
package manuscript
