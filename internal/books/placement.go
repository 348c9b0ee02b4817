package books

import (
	"context"
	"slices"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/manuscript"
)

// FileName cleans a file name a client sent (bookfs.CleanPath) and checks
// that books use its type (bookfs.KindOf).
func FileName(raw string) (string, error) {
	name, err := bookfs.CleanPath(raw)
	if err != nil {
		return "", err
	}
	if _, err := bookfs.KindOf(name); err != nil {
		return "", err
	}
	return name, nil
}

// Placement places loose files dropped on a book (drag and drop) by type:
// "01.md" goes to chapters/, "map.png" to assets/images/. A bare name
// that metadata.yaml names ("cover: cover.jpg") stays where it is, so
// placement never breaks a reference.
type Placement struct {
	s     *Service
	id    int64
	named []string
}

// Placement returns the placement of loose files for book id, reading
// its metadata.yaml once.
func (s *Service) Placement(ctx context.Context, id int64) (*Placement, error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, err
	}
	p := &Placement{s: s, id: id}
	p.Stored(bookfs.MetadataFile)
	return p, nil
}

// Name is where a loose file raw goes.
func (p *Placement) Name(raw string) (string, error) {
	name, err := FileName(raw)
	if err != nil || slices.Contains(p.named, raw) {
		return name, err
	}
	k, _ := bookfs.KindOf(name)
	return bookfs.Placement(name, k), nil
}

// Stored tells the placement that file name was stored: a new
// metadata.yaml may name other files.
func (p *Placement) Stored(name string) {
	if name != bookfs.MetadataFile {
		return
	}
	p.named = nil
	if md, _, err := p.s.metadata(p.id); err == nil && md != nil {
		p.named = metadataPaths(md)
	}
}

// metadataPaths are the files metadata.yaml names (cover, stylesheet).
func metadataPaths(md *manuscript.Metadata) []string {
	var out []string
	for _, p := range []string{md.Cover, md.EPUB.CoverImage, md.EPUB.Stylesheet} {
		if p != "" {
			out = append(out, strings.TrimPrefix(p, "./"))
		}
	}
	return out
}

// unplace undoes an automatic placement that a metadata.yaml stored after
// it contradicts: a bare file it names ("cover.jpg") that is missing but
// was placed by type ("assets/images/cover.jpg") moves back to the name,
// so that the order in which a folder's files arrive does not matter.
func (s *Service) unplace(ctx context.Context, id int64, md *manuscript.Metadata) {
	for _, p := range metadataPaths(md) {
		if strings.Contains(p, "/") {
			continue
		}
		k, err := bookfs.KindOf(p)
		if err != nil {
			continue
		}
		placed := bookfs.Placement(p, k)
		if placed == p {
			continue
		}
		err = s.d.Files.Move(id, placed, p)
		if err == nil && s.d.Shared != nil {
			if err = s.d.Shared.Moved(ctx, id, placed, p); err != nil {
				s.discard(id, placed, p)
			}
		}
		if err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND && bindery.ErrorCode(err) != bindery.ECONFLICT {
			s.d.Logger.Warn("moving a placed file back to the name metadata.yaml gives it", "book_id", id, "file", p, "err", err)
		}
	}
}
