package main

import (
	"testing"
	"time"
)

func TestQuantileAndMedian(t *testing.T) {
	xs := []int64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0, 1}, {0.5, 5}, {0.99, 10}, {1, 10}, {0.1, 1}, {0.2, 2}} {
		if got := quantile(xs, c.q); got != c.want {
			t.Errorf("quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
	if got := median(xs); got != 5 {
		t.Errorf("median = %d, want 5 (the lower middle)", got)
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 = %d, want 2", got)
	}
	if xs[0] != 5 {
		t.Error("quantile sorted its argument in place")
	}
	if quantile([]float64(nil), 0.5) != 0 || median([]float64(nil)) != 0 {
		t.Error("empty input: want 0")
	}
}
