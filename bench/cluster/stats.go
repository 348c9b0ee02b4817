package main

import (
	"fmt"
	"slices"
	"time"
)

// quantile returns the q-quantile (0 ≤ q ≤ 1) of xs by the nearest-rank
// method on a sorted copy: quantile(xs, 1) is the maximum. Zero for none.
func quantile[T int64 | float64 | time.Duration](xs []T, q float64) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(len(s)-1, max(0, i))]
}

// median is the middle value (the lower of the two middle ones for an
// even count, as the shell scripts' medians are).
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// spread prints "min–max" of xs with f.
func spread[T int64 | float64 | time.Duration](xs []T, f func(T) string) string {
	if len(xs) == 0 {
		return "–"
	}
	return f(slices.Min(xs)) + "–" + f(slices.Max(xs))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func msn(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
