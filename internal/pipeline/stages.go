package pipeline

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/manuscript"
	"golang.org/x/net/html"
)

// runContext is what the stages of one execution of a run share.
type runContext struct {
	e      *Engine
	run    *bindery.Run
	book   *bindery.Book
	lease  int64                   // this execution's lease (bindery.RunChange)
	cancel context.CancelCauseFunc // cancels the stages (errStopped)
	dir    string                  // the book folder
	out    string                  // the run's artifact folder
	synced bool                    // dir was brought in step with shared storage (Books.Sync)
	// m is the book, parsed once per execution (load) and shared by every
	// stage: content checks it, images adds the cover to it, format builds
	// it. root is the folder it reads images from, open until close.
	m    *manuscript.Manuscript
	root *os.Root
}

// close releases what load opened.
func (rc *runContext) close() {
	if rc.root != nil {
		rc.root.Close()
		rc.root, rc.m = nil, nil
	}
}

// relative rewrites server paths in a message shown to the book's readers
// (events, stage messages) into names relative to the book or the run:
// "wrote /srv/bindery/artifacts/12/lighthouse.epub (…)" becomes "wrote
// lighthouse.epub (…)". Messages are built from book-relative names to
// begin with; this is the net under them, for text that comes from
// libraries (file-system errors name absolute paths).
func (rc *runContext) relative(msg string) string {
	for _, dir := range []string{rc.out, rc.dir} {
		msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, dir, ".")
	}
	for _, dir := range []string{rc.e.cfg.ArtifactsDir, filepath.Dir(rc.dir)} {
		msg = strings.ReplaceAll(msg, dir, "…")
	}
	return msg
}

// step writes a stage row and/or stores an event, only while this
// execution holds the run (running, under its lease). When it does not,
// nothing is written and the execution is cancelled: the run was paused,
// stopped or claimed again, and nothing may follow their events.
func (rc *runContext) step(ctx context.Context, st *bindery.StageState, ev *bindery.Event) bool {
	var stage *bindery.StageState
	if st != nil {
		cp := *st
		cp.Message = rc.relative(cp.Message)
		stage = &cp
	}
	if ev != nil {
		ev.Message, ev.Error = rc.relative(ev.Message), rc.relative(ev.Error)
	}
	return rc.write(ctx, bindery.RunChange{Stage: stage, Event: ev})
}

// write applies c (its stage row and event) as a step of this execution:
// only while the run is running under its lease.
func (rc *runContext) write(ctx context.Context, c bindery.RunChange) bool {
	c.RunID, c.From, c.Lease = rc.run.ID, []string{bindery.RunRunning}, rc.lease
	_, ok, err := rc.e.change(ctx, c)
	if err != nil {
		rc.e.log.Error("recording a run step failed", "run_id", rc.run.ID, "err", err)
	}
	if !ok {
		rc.cancel(errStopped)
	}
	return ok
}

// emit stores an event of the run under the execution's lease.
func (rc *runContext) emit(ctx context.Context, ev *bindery.Event) bool { return rc.step(ctx, nil, ev) }

// hook calls the test hook, if any.
func (rc *runContext) hook(ctx context.Context, point string) {
	if rc.e.hook != nil {
		rc.e.hook(ctx, rc.run.ID, point)
	}
}

// stageFunc runs one stage. skipped: the stage had nothing to do; msg
// says what it did. An error of type stageWarning means the stage did its
// job but not as asked (its message says why): the stage ends in the
// "warning" state and the run goes on.
type stageFunc func(ctx context.Context, rc *runContext, progress func(int, string)) (skipped bool, msg string, err error)

// stageWarning ends a stage in the warning state with its text as the
// message.
type stageWarning string

func (w stageWarning) Error() string { return string(w) }

var stageFuncs = map[string]stageFunc{
	bindery.StageContent: contentStage,
	bindery.StageImages:  imagesStage,
	bindery.StageFormat:  formatStage,
	bindery.StageQuality: qualityStage,
	bindery.StagePublish: publishStage,
}

// progressEvery throttles stage_progress events; 0 and 100 always go out.
const progressEvery = 100 * time.Millisecond

func (rc *runContext) runStage(ctx context.Context, i int) error {
	e := rc.e
	st := &rc.run.Stages[i]
	now := e.cfg.Now()
	st.State, st.Progress, st.Message, st.StartedAt, st.FinishedAt = "running", 0, "", &now, nil
	if !rc.step(ctx, st, &bindery.Event{Type: bindery.EventStageStarted, RunID: rc.run.ID, BookID: rc.book.ID, Stage: st.Name}) {
		return errStopped
	}
	progress := func(pct int, msg string) {
		pct = max(0, min(100, pct))
		if pct != 0 && pct != 100 && e.cfg.Now().Sub(e.lastProgress(rc.run.ID)) < progressEvery {
			return
		}
		st.Progress, st.Message = pct, msg
		rc.step(ctx, st, &bindery.Event{Type: bindery.EventStageProgress, RunID: rc.run.ID, BookID: rc.book.ID, Stage: st.Name, Progress: &pct, Message: msg})
	}
	rc.hook(ctx, "stage:"+st.Name)
	var skipped bool
	var msg string
	var err error
	if !rc.synced {
		// Once per execution, before the first stage it does: the
		// stages read the book's folder, which on several nodes this
		// node may hold an old copy of (or none).
		if err = e.cfg.Books.Sync(ctx, rc.book.ID); err == nil {
			err = e.fetchArtifacts(ctx, rc.run.ID)
		}
		rc.synced = err == nil
	}
	if err == nil {
		skipped, msg, err = stageFuncs[st.Name](ctx, rc, progress)
	}
	rc.hook(ctx, "done:"+st.Name)
	warning, warned := err.(stageWarning)
	if warned {
		err, msg = nil, string(warning)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	end := e.cfg.Now()
	st.FinishedAt = &end
	switch {
	case ctx.Err() != nil:
		// Interrupted: pause and stop already put the stage back to
		// pending; after a shutdown, this execution still holds the run
		// and does it itself.
		st.State, st.Message, st.FinishedAt = "pending", "interrupted", nil
		rc.step(ctx, st, nil)
	case err != nil:
		// The run's failure records this row with its own state change.
		st.State, st.Message = "failed", failureMessage(err)
		if st.Message == "" {
			st.Message = "internal error (see the server log)"
		}
	case skipped:
		st.State, st.Message = "skipped", msg
	case warned:
		st.State, st.Progress, st.Message = "warning", 100, msg
	default:
		st.State, st.Progress, st.Message = "succeeded", 100, msg
	}
	if e.cfg.StageObserver != nil {
		e.cfg.StageObserver(st.Name, st.State, end.Sub(now))
	}
	if err == nil {
		full := st.Progress
		if !rc.step(ctx, st, &bindery.Event{Type: bindery.EventStageFinished, RunID: rc.run.ID, BookID: rc.book.ID, Stage: st.Name, Progress: &full, Message: st.State + ": " + msg, State: st.State}) {
			return errStopped
		}
	}
	return err
}

func (e *Engine) lastProgress(runID int64) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.progressT[runID]
	e.progressT[runID] = e.cfg.Now()
	return t
}

// logf adds a log line to the run.
func (rc *runContext) logf(ctx context.Context, level, source, format string, args ...any) {
	rc.emit(ctx, &bindery.Event{Type: bindery.EventLog, RunID: rc.run.ID, BookID: rc.book.ID, Level: level, Source: source, Message: fmt.Sprintf(format, args...)})
}

// load parses the manuscript, once per execution of the run: every stage
// after it uses the same parse. Parsing stops when ctx ends (the run is
// paused or stopped).
func (rc *runContext) load(ctx context.Context) error {
	if rc.m != nil {
		return nil
	}
	root, err := os.OpenRoot(rc.dir)
	if err != nil {
		return err
	}
	m, err := manuscript.LoadLimits(ctx, root, rc.e.cfg.Books.Limits().Manuscript)
	if err != nil {
		root.Close()
		return err
	}
	rc.m, rc.root = m, root
	return nil
}

// contentStage parses, validates and counts the manuscript.
func contentStage(ctx context.Context, rc *runContext, progress func(int, string)) (bool, string, error) {
	progress(0, "reading the manuscript")
	if err := rc.load(ctx); err != nil {
		return false, "", err
	}
	progress(50, "checking")
	problems := manuscript.CheckWith(rc.m, manuscript.CheckOptions{Draft: rc.run.Draft, Limits: rc.e.cfg.Books.Limits().Manuscript})
	for _, p := range problems {
		level := "warn"
		if p.Severity == manuscript.SeverityError {
			level = "error"
		}
		rc.logf(ctx, level, bindery.StageContent, "%s", p.String())
	}
	if manuscript.HasErrors(problems) {
		return false, "", bindery.Errorf(bindery.EUNPROCESSABLE, "the manuscript has errors (see the log)")
	}
	words := 0
	for _, c := range rc.m.Chapters {
		words += len(strings.Fields(string(c.Body)))
	}
	return false, fmt.Sprintf("%s, %s", plural(len(rc.m.Chapters), "chapter"), plural(words, "word")), nil
}

// imagesStage makes missing art. Without an illustrator the run goes on.
func imagesStage(ctx context.Context, rc *runContext, progress func(int, string)) (bool, string, error) {
	if err := rc.load(ctx); err != nil {
		return false, "", err
	}
	if rc.m.Metadata.Cover != "" {
		return true, "the book has a cover", nil
	}
	if rc.e.cfg.Illustrator == nil {
		rc.logf(ctx, "info", bindery.StageImages, "No image generator is configured; the book is built without a cover.")
		return true, "no image generator configured", nil
	}
	progress(10, "making a cover")
	c, err := rc.e.cfg.Illustrator.Cover(ctx, rc.m.Metadata)
	if err != nil {
		if ctx.Err() != nil {
			return false, "", ctx.Err()
		}
		rc.logf(ctx, "warn", bindery.StageImages, "No cover: %s", bindery.ErrorMessage(err))
		return true, "cover generation failed; continuing without", nil
	}
	name := "assets/images/cover" + c.Ext
	// metadata.yaml points at it, so that every format uses it: one entry
	// changed, the author's file otherwise as written. The next stages
	// build with the cover, from the same parse.
	md, err := rc.e.cfg.Books.SetCover(ctx, rc.book, rc.m.Metadata, name, c.Data)
	if err != nil {
		return false, "", err
	}
	rc.m.Metadata = md
	rc.logf(ctx, "info", bindery.StageImages, "Cover (%s) saved as %s and set in metadata.yaml. Alt text: %s", c.Source, name, c.AltText)
	switch {
	case c.Source == "local" && c.Fallback != "":
		// The image service was configured but gave no cover: say why
		// (a refused key, rate limits, an outage), as a warning.
		rc.logf(ctx, "warn", bindery.StageImages, "The image service gave no cover: %s A typographic cover was drawn locally instead; illustrations were skipped.", c.Fallback)
		return false, "", stageWarning("typographic cover drawn locally (" + strings.TrimSuffix(c.Fallback, ".") + ")")
	case c.Source == "local":
		rc.logf(ctx, "info", bindery.StageImages, "No Ideogram key configured: drew a typographic cover locally; illustrations skipped.")
		return false, "typographic cover drawn locally (no image service configured)", nil
	}
	return false, "cover added as " + name, nil
}

// formatStage builds the requested formats into the run's folder.
func formatStage(ctx context.Context, rc *runContext, progress func(int, string)) (bool, string, error) {
	var formats []build.Format
	for _, f := range rc.run.Formats {
		formats = append(formats, build.Format(f))
	}
	if err := rc.load(ctx); err != nil {
		return false, "", err
	}
	progress(5, "building "+strings.Join(rc.run.Formats, ", "))
	// The build's steps are loading, checking, then one per format.
	report := func(ev build.Event) {
		if ev.Kind == build.Wrote {
			done := ev.Step - (ev.Steps - len(formats))
			progress(5+90*done/len(formats), fmt.Sprintf("wrote %s (%s)", filepath.Base(ev.Artifact.Path), build.HumanSize(ev.Artifact.Size)))
		}
	}
	res, err := build.Run(ctx, build.Options{Dir: rc.dir, OutDir: rc.out, Formats: formats, Manuscript: rc.m, Progress: report, Draft: rc.run.Draft,
		Limits: rc.e.cfg.Books.Limits().Manuscript})
	if err != nil {
		return false, "", err
	}
	if err := rc.e.shareArtifacts(ctx, rc.run.ID); err != nil {
		return false, "", err
	}
	var names []string
	for _, a := range res.Artifacts {
		names = append(names, filepath.Base(a.Path))
	}
	return false, "built " + strings.Join(names, ", "), nil
}

// qualityStage re-checks the book and the structure of every artifact.
func qualityStage(ctx context.Context, rc *runContext, progress func(int, string)) (bool, string, error) {
	names := rc.e.Artifacts(ctx, rc.run.ID)
	if len(names) == 0 {
		return false, "", bindery.Errorf(bindery.EUNPROCESSABLE, "no artifact was built")
	}
	for i, name := range names {
		progress(100*i/len(names), "checking "+name)
		if err := checkArtifact(filepath.Join(rc.out, name)); err != nil {
			return false, "", bindery.Errorf(bindery.EUNPROCESSABLE, "%s: %s", name, rc.relative(err.Error()))
		}
	}
	if len(names) == 1 {
		return false, "1 file passes", nil
	}
	return false, fmt.Sprintf("%d files pass", len(names)), nil
}

// checkArtifact verifies an output's structure by its type.
func checkArtifact(path string) error {
	switch filepath.Ext(path) {
	case ".epub":
		zr, err := zip.OpenReader(path)
		if err != nil {
			return err
		}
		defer zr.Close()
		if len(zr.File) == 0 || zr.File[0].Name != "mimetype" || zr.File[0].Method != zip.Store {
			return fmt.Errorf("the EPUB's first entry is not a stored mimetype")
		}
		for _, need := range []string{"META-INF/container.xml"} {
			if _, err := zr.Open(need); err != nil {
				return fmt.Errorf("missing %s", need)
			}
		}
	case ".pdf":
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(data, []byte("%PDF-1.")) || !bytes.Contains(data[max(0, len(data)-1024):], []byte("%%EOF")) {
			return fmt.Errorf("not a complete PDF")
		}
	case ".html":
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := html.Parse(io.LimitReader(f, 256<<20)); err != nil {
			return err
		}
	}
	return nil
}

// publishStage publishes when the run asked for it. Only a user holding
// the publish permission can start such a run (checked at start), and the
// quality stage has passed to get here: the catalog checks that again.
func publishStage(ctx context.Context, rc *runContext, progress func(int, string)) (bool, string, error) {
	if !rc.run.Publish {
		return true, "not requested", nil
	}
	progress(10, "publishing")
	// The commit point: the catalog calls it after preparing the new
	// edition and before switching to it. Once it applied, pause and stop
	// are refused, and the run ends succeeded (or failed), never stopped.
	commit := func(ctx context.Context) error {
		rc.hook(ctx, "commit")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_, ok, err := rc.e.change(ctx, bindery.RunChange{RunID: rc.run.ID, From: []string{bindery.RunRunning}, Lease: rc.lease, Commit: true})
		if err != nil {
			return err
		}
		if !ok {
			rc.cancel(errStopped)
			return errStopped
		}
		return nil
	}
	pub, err := rc.e.cfg.Books.PublishRun(ctx, rc.run, rc.run.CreatedBy, commit)
	if err != nil {
		return false, "", err
	}
	// Once: an execution that resumes this stage after a crash finds the
	// edition switched (PublishRun returns it) and may find the event
	// told already.
	rc.write(ctx, bindery.RunChange{Once: true, Event: &bindery.Event{Type: bindery.EventBookPublished, RunID: rc.run.ID, BookID: rc.book.ID}})
	return false, "published " + strings.Join(pub.Files, ", "), nil
}

// plural is "1 chapter", "2 chapters".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
