package build

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SourceDateEpoch parses the SOURCE_DATE_EPOCH convention of reproducible
// builds (reproducible-builds.org): a decimal count of seconds since
// 1970-01-01 UTC, which a build stamps instead of the clock so that two
// builds of the same sources give the same bytes. "" gives the zero time
// (Options.Modified then takes the build time); anything else that is
// not such a count is an error, as the convention asks, rather than a
// silently unreproducible build.
func SourceDateEpoch(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	// 253402300799 is 9999-12-31T23:59:59Z, the last instant that
	// dcterms:modified's four-digit year can write.
	if err != nil || n < 0 || n > 253402300799 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds since 1970-01-01 UTC", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// modifiedTime is the EPUB's dcterms:modified: Options.Modified when set
// (the command line sets it from SOURCE_DATE_EPOCH), else the build time
// from now, to the second.
func modifiedTime(opt time.Time, now func() time.Time) time.Time {
	if !opt.IsZero() {
		return opt.UTC().Truncate(time.Second)
	}
	return now().UTC().Truncate(time.Second)
}
