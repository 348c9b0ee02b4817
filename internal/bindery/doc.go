// Package bindery is the vocabulary of Bindery: its domain types (users,
// roles, permissions, sessions, audit events), the store interfaces that
// adapters implement, and the error codes every layer speaks. It imports
// nothing of ours, so every other package may import it.
package bindery
