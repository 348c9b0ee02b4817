package hyphen

import (
	"reflect"
	"testing"
)

func TestEnglishKnownWords(t *testing.T) {
	h := English()
	tests := []struct{ word, want string }{
		{"hyphenation", "hy-phen-ation"},
		{"table", "ta-ble"},
		{"computer", "com-puter"}, // RightMin 3 forbids "put-er"
		{"algorithm", "al-go-rithm"},
		{"Frankenstein", "Franken-stein"},
		{"creature", "crea-ture"},
		{"philosophy", "phi-los-o-phy"},
		{"a", "a"},
		{"the", "the"},
	}
	for _, tt := range tests {
		if got := h.Hyphenate(tt.word, "-"); got != tt.want {
			t.Errorf("Hyphenate(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestPointsRespectMinimums(t *testing.T) {
	h := English()
	for _, w := range []string{"hyphenation", "extraordinary", "incomprehensibilities", "ab", "abcde"} {
		n := len([]rune(w))
		for _, p := range h.Points(w) {
			if p < h.LeftMin || p > n-h.RightMin {
				t.Errorf("Points(%q) has %d outside [%d, %d]", w, p, h.LeftMin, n-h.RightMin)
			}
		}
	}
}

func TestException(t *testing.T) {
	h, err := Parse([]byte("UTF-8\n1ba\n"))
	if err != nil {
		t.Fatal(err)
	}
	h.AddException("ta-ble")
	if got, want := h.Points("Table"), []int{2}; !reflect.DeepEqual(got, want) {
		t.Errorf("Points(Table) = %v, want %v", got, want)
	}
}

func TestParseEmpty(t *testing.T) {
	if _, err := Parse([]byte("UTF-8\n")); err == nil {
		t.Error("Parse of a file without patterns: want error")
	}
}

func BenchmarkPoints(b *testing.B) {
	h := English()
	for b.Loop() {
		h.Points("incomprehensibilities")
	}
}
