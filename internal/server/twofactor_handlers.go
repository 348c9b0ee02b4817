package server

import (
	"net/http"

	"github.com/bindery/bindery/internal/bindery"
)

// twoFactorStatus is GET /api/v1/me/two-factor.
type twoFactorStatus struct {
	Enabled       bool `json:"enabled"`
	Pending       bool `json:"pending"`  // an enrolment was started, not confirmed
	Required      bool `json:"required"` // the policy requires it for this account
	RecoveryCodes int  `json:"recovery_codes_left"`
}

// handleTwoFactorStatus: GET /api/v1/me/two-factor.
func (s *Server) handleTwoFactorStatus(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	tf, err := s.store.TwoFactorOf(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, twoFactorStatus{
		Enabled: tf.EnabledAt != nil, Pending: tf.EnabledAt == nil && tf.Secret != "",
		Required: s.auth.TwoFactorPolicy().Required(p.User), RecoveryCodes: tf.RecoveryCodes,
	})
}

// reauthRequest re-proves the account owner before a sensitive change.
type reauthRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// handleBeginTwoFactor: POST /api/v1/me/two-factor {password}. Answers the
// secret and otpauth URI for the app, and where to fetch the QR code.
func (s *Server) handleBeginTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req reauthRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	e, err := s.auth.BeginTwoFactor(r.Context(), p, req.Password, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"secret": e.Secret, "uri": e.URI, "qr": "/api/v1/me/two-factor/qr.png"})
}

// handleTwoFactorQR: GET /api/v1/me/two-factor/qr.png, the QR code of the
// pending enrolment. It holds the secret: never cached, never shown again
// once the factor is on.
func (s *Server) handleTwoFactorQR(w http.ResponseWriter, r *http.Request) {
	png, err := s.auth.EnrolmentQR(r.Context(), principal(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// handleConfirmTwoFactor: POST /api/v1/me/two-factor/confirm {code}. Turns
// the factor on, revokes every earlier session (this browser gets a new
// one) and every API token, and answers the recovery codes, shown this
// once, and how many tokens went: {"recovery_codes": […],
// "revoked_tokens": N}.
func (s *Server) handleConfirmTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req reauthRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	codes, ch, err := s.auth.ConfirmTwoFactor(r.Context(), p, req.Code, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ch.Session != "" {
		s.setSessionCookie(w, r, ch.Session)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes, "revoked_tokens": ch.RevokedTokens})
}

// handleDisableTwoFactor: DELETE /api/v1/me/two-factor {password, code}.
func (s *Server) handleDisableTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req reauthRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	if err := s.auth.DisableTwoFactor(r.Context(), p, req.Password, req.Code, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRenewRecoveryCodes: POST /api/v1/me/two-factor/recovery-codes
// {password, code}: new codes replace all unused ones.
func (s *Server) handleRenewRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	var req reauthRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	codes, err := s.auth.RenewRecoveryCodes(r.Context(), p, req.Password, req.Code, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

// handleResetTwoFactor: DELETE /api/v1/users/{id}/two-factor (admin): for
// a user who lost their device and recovery codes.
func (s *Server) handleResetTwoFactor(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.UserByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	if id == p.User.ID {
		// Resetting one's own factor here would skip the password and
		// code that DELETE /me/two-factor asks, and the policy.
		s.writeError(w, r, bindery.Errorf(bindery.ECONFLICT, "Use your account page to turn off your own two-factor sign-in."))
		return
	}
	if err := s.auth.ResetTwoFactor(r.Context(), p.User, id, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
