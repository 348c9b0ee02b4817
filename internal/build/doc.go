// Package build is the library behind "bindery build" and "bindery check"
// (CONTRACT §1): it loads a book folder, checks it, and writes the
// requested formats into an output folder.
//
// The command line wires it as, roughly:
//
//	res, err := build.Run(ctx, build.Options{
//		Dir: dir, OutDir: out, Formats: formats,
//		Progress: stderr, Terminal: isTerminal(stderr),
//	})
//	// err prints as "file:line: message" lines; exit non-zero when err != nil
//
//	problems, err := build.Check(ctx, dir)
//	build.WriteProblems(stdout, problems)
//	// exit non-zero when err != nil or manuscript.HasErrors(problems)
//
// Artifacts are written atomically: into a temporary file in the output
// folder, synced, then renamed over the final name, so a reader (or a web
// server) never sees a half-written book and a failed build leaves the
// previous one in place.
package build
