// Package build is the library behind "bindery build" and "bindery check"
// (CONTRACT §1): it loads a book folder, checks it, and writes the
// requested formats into an output folder.
//
// The command line wires it as, roughly:
//
//	show, finish := build.Display(stderr, isTerminal(stderr))
//	res, err := build.Run(ctx, build.Options{Dir: dir, OutDir: out, Formats: formats, Progress: show})
//	finish()
//	// err prints as "file:line: message" lines; exit non-zero when err != nil
//
//	problems, err := build.Check(ctx, dir)
//	build.WriteProblems(stdout, problems)
//	// exit non-zero when err != nil or manuscript.HasErrors(problems)
//
// Progress is reported as values (Event), never as text for another
// package to parse back: the terminal draws them (Display), the server's
// pipeline turns them into stage progress.
//
// Artifacts are written atomically: into a temporary file in the output
// folder, synced, then renamed over the final name, so a reader (or a web
// server) never sees a half-written book and a failed build leaves the
// previous one in place.
package build
