package build

import "testing"

func TestPoints(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0.75in": 54, "2.54cm": 72, "25.4 mm": 72, "11pt": 11, "11": 11, " 1IN ": 72} {
		if got, err := points(in); err != nil || got < want-1e-9 || got > want+1e-9 {
			t.Errorf("points(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"wide", "-1in", "1e9pt", "in"} {
		if _, err := points(bad); err == nil {
			t.Errorf("points(%q) succeeded", bad)
		}
	}
}
