package build

import (
	"runtime/debug"
	"sync"
)

// leanGCPercent is the garbage collector's target while a PDF is typeset.
//
// The typesetter holds the whole book's layout at once (86 MB live for a
// book of 4 MiB of text, the most the limits accept) and makes as much
// garbage again. At Go's default target (GOGC=100) the heap may grow to
// twice what is live before a collection, which took the largest books
// within the limits to 226–257 MB; at 50 they peak at 180–200 MB (bench/
// memory.sh), for a little more collector CPU while a PDF is typeset.
const leanGCPercent = 50

// leanGC lowers the collector's target while at least one PDF is being
// typeset in this process and restores it when the last one ends; call
// the returned function when done. The setting is the process's, hence
// the count. A target an operator chose (GOGC set to anything but the
// default 100, or off) is left alone.
func leanGC() (restore func()) {
	lean.Lock()
	defer lean.Unlock()
	if lean.n == 0 {
		lean.prev = debug.SetGCPercent(leanGCPercent)
		if lean.prev != 100 {
			debug.SetGCPercent(lean.prev) // the operator's choice
		}
	}
	lean.n++
	return func() {
		lean.Lock()
		defer lean.Unlock()
		lean.n--
		if lean.n == 0 {
			debug.SetGCPercent(lean.prev)
		}
	}
}

// lean counts the PDFs being typeset (see leanGC).
var lean struct {
	sync.Mutex
	n    int
	prev int
}
