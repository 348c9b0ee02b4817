//go:build race

package main

// raceEnabled: the race detector multiplies memory several times over, so
// the budget cannot be measured under it.
const raceEnabled = true
