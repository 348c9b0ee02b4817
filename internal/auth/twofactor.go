package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/totp"
)

// TwoFactorPolicy says whose accounts must use two-factor sign-in
// (BINDERY_REQUIRE_TWO_FACTOR).
type TwoFactorPolicy string

// Policies.
const (
	TwoFactorOptional TwoFactorPolicy = ""       // anyone may turn it on
	TwoFactorAdmins   TwoFactorPolicy = "admins" // admins must
	TwoFactorAll      TwoFactorPolicy = "all"    // everyone must
)

// Required reports whether the policy requires u to use a second factor.
func (p TwoFactorPolicy) Required(u *bindery.User) bool {
	switch p {
	case TwoFactorAll:
		return true
	case TwoFactorAdmins:
		return u.Role == bindery.RoleAdmin
	}
	return false
}

// ChallengeTTL is how long a sign-in may wait between the password and the
// code.
const ChallengeTTL = 5 * time.Minute

var (
	errSecondFactor = &bindery.Error{Code: bindery.ESECONDFACTOR, Message: "Enter the 6-digit code from your authenticator app, or one of your recovery codes."}
	errBadCode      = bindery.Errorf(bindery.EUNAUTHORIZED, "That code is wrong or was already used.")
	errBadChallenge = bindery.Errorf(bindery.EUNAUTHORIZED, "This sign-in has expired; enter your e-mail address and password again.")
)

// SecondFactorNeeded is Login's error when the password was right and the
// account has two-factor sign-in on. Its code is ESECONDFACTOR. Challenge
// lets the client finish with FinishLogin and the code alone (no need to
// keep the password around) for ChallengeTTL.
type SecondFactorNeeded struct{ Challenge string }

func (e *SecondFactorNeeded) Error() string { return errSecondFactor.Error() }

// Unwrap makes bindery.ErrorCode and ErrorMessage see ESECONDFACTOR.
func (e *SecondFactorNeeded) Unwrap() error { return errSecondFactor }

// challenge is what a sign-in challenge seals: who passed the password,
// and a fingerprint of the password hash, so that a password change
// voids challenges issued before it.
type challenge struct {
	// Purpose separates challenges from every other value the keyring
	// encrypts (data at rest): no stored ciphertext can pass for one.
	Purpose  string `json:"k"`
	UserID   int64  `json:"u"`
	Password string `json:"p"`
	Issued   int64  `json:"t"` // Unix seconds on the service clock
	// ID is random: what the store records once the challenge completed a
	// sign-in, so that it never completes another (see FinishLogin).
	ID string `json:"i"`
}

// challengePurpose names the format; v2 added the ID, and challenges of
// v1 (without one) are refused: they cannot be made single-use.
const challengePurpose = "bindery sign-in challenge v2"

// idHash is what the store keeps of a used challenge.
func (ch *challenge) idHash() []byte {
	sum := sha256.Sum256([]byte("bindery used challenge\x00" + ch.ID))
	return sum[:]
}

// expiry is when the challenge stops opening anyway.
func (ch *challenge) expiry() time.Time { return time.Unix(ch.Issued, 0).Add(ChallengeTTL) }

func passwordPrint(hash string) string {
	sum := sha256.Sum256([]byte("bindery challenge\x00" + hash))
	return hex.EncodeToString(sum[:8])
}

// newChallenge seals a challenge for u with the keyring: authenticated
// encryption of the user, a password fingerprint and the issue time, so it
// cannot be forged, altered or used after ChallengeTTL, and says nothing
// to whoever holds it.
func (s *Service) newChallenge(u *bindery.User) (string, error) {
	b, err := json.Marshal(challenge{Purpose: challengePurpose, UserID: u.ID, Password: passwordPrint(u.PasswordHash), Issued: s.now().Unix(), ID: newID()})
	if err != nil {
		return "", err
	}
	return s.secrets.Encrypt(b)
}

// openChallenge returns the user a challenge was issued for and the
// challenge, or errBadChallenge.
func (s *Service) openChallenge(ctx context.Context, token string) (*bindery.User, *challenge, error) {
	if len(token) > 1024 {
		return nil, nil, errBadChallenge
	}
	b, err := s.secrets.Decrypt(token)
	if err != nil {
		return nil, nil, errBadChallenge
	}
	var ch challenge
	if json.Unmarshal(b, &ch) != nil || ch.Purpose != challengePurpose || len(ch.ID) < 32 {
		return nil, nil, errBadChallenge
	}
	// The issue time is inside the sealed payload, on the service's own
	// clock (Fernet's timestamp is the wall clock's, which tests fake).
	if age := s.now().Sub(time.Unix(ch.Issued, 0)); age > ChallengeTTL || age < -time.Minute {
		return nil, nil, errBadChallenge
	}
	u, err := s.store.UserByID(ctx, ch.UserID)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND || (err == nil && (ch.Password != passwordPrint(u.PasswordHash) || !u.TwoFactor)) {
		return nil, nil, errBadChallenge
	}
	return u, &ch, err
}

// ChallengeValid reports whether a sign-in challenge can still be
// finished (for the sign-in page, to ask for the code again after a wrong
// one). A challenge that already completed a sign-in still "opens" here
// and fails in FinishLogin; the page then asks for the password.
func (s *Service) ChallengeValid(ctx context.Context, token string) bool {
	_, _, err := s.openChallenge(ctx, token)
	return err == nil
}

// FinishLogin completes a sign-in that Login answered with
// SecondFactorNeeded: the challenge it carried and a code.
//
// A challenge completes one sign-in only. Wrong codes leave it usable
// (the user may retry within ChallengeTTL, through the brute-force
// guard), but once a code was accepted its ID is recorded as used until
// its expiry, so the challenge — if it was copied, logged or kept in a
// page's history — never opens a second session, with a fresh TOTP code
// or with a recovery code. Of two requests racing with the same
// challenge and valid codes, the store lets exactly one through.
func (s *Service) FinishLogin(ctx context.Context, challengeToken, code string, c Client, replaced string) (*bindery.User, string, error) {
	if left, blocked := s.guard.Blocked(c.Addr); blocked {
		s.observe("blocked")
		return nil, "", blockedError(left)
	}
	u, ch, err := s.openChallenge(ctx, challengeToken)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(code) == "" {
		// Not a fresh challenge: only the password earns one, so a
		// challenge cannot be kept alive past ChallengeTTL without it.
		return nil, "", errSecondFactor
	}
	return s.completeLogin(ctx, u, code, c, replaced, ch)
}

// completeLogin checks the second factor when u has one (code "" asks for
// it with a challenge) and starts the session. from is the challenge the
// sign-in finishes, nil when the password came with the code: it is
// marked used once the code is accepted, before the session exists.
func (s *Service) completeLogin(ctx context.Context, u *bindery.User, code string, c Client, replaced string, from *challenge) (*bindery.User, string, error) {
	how := ""
	if u.TwoFactor {
		if strings.TrimSpace(code) == "" {
			ch, err := s.newChallenge(u)
			if err != nil {
				return nil, "", err
			}
			return nil, "", &SecondFactorNeeded{Challenge: ch}
		}
		var err error
		if how, err = s.checkSecondFactor(ctx, u, code, c); err != nil {
			return nil, "", err
		}
	}
	if from != nil {
		first, err := s.store.UseChallenge(ctx, from.idHash(), from.expiry(), s.now())
		if err != nil {
			return nil, "", err
		}
		if !first {
			// A replay (or the loser of a race): a failure like any other.
			if err := s.failure(ctx, u.Email, u.Email, c, "sign-in challenge used again"); bindery.ErrorCode(err) == bindery.ETOOMANY {
				return nil, "", err
			}
			return nil, "", errBadChallenge
		}
	}
	s.guard.Success(c.Addr, u.Email)
	s.observe("ok")
	if replaced != "" {
		s.Logout(ctx, replaced, c)
	}
	tok, err := s.newSession(ctx, u, c)
	if err != nil {
		return nil, "", err
	}
	s.Audit(ctx, actorEvent(bindery.AuditLoginSucceeded, u, c, "", how))
	return u, tok, nil
}

// checkSecondFactor accepts a current TOTP code (each time step once:
// a code seen over a shoulder or relayed by a phishing page cannot be
// used again) or an unused recovery code (deleted as it is used). A wrong
// code is a sign-in failure for the brute-force guard — per address and
// per account — exactly like a wrong password, since six digits fall to
// unlimited guessing. It returns how the user got in, for the audit log.
func (s *Service) checkSecondFactor(ctx context.Context, u *bindery.User, code string, c Client) (string, error) {
	if err := s.sleep(ctx, s.guard.AccountDelay(u.Email)); err != nil {
		return "", err
	}
	tf, err := s.store.TwoFactorOf(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if tf.EnabledAt != nil {
		if step, ok := totp.Verify(tf.Secret, code, s.now(), tf.LastStep); ok {
			won, err := s.store.UseTwoFactorStep(ctx, u.ID, step)
			if err != nil {
				return "", err
			}
			if won {
				return "with authenticator code", nil
			}
		} else if hash, ok := totp.HashRecoveryCode(code); ok {
			used, err := s.store.UseRecoveryCode(ctx, u.ID, hash)
			if err != nil {
				return "", err
			}
			if used {
				s.Audit(ctx, actorEvent(bindery.AuditRecoveryCodeUsed, u, c, bindery.UserTarget(u.ID), ""))
				return "with a recovery code", nil
			}
		}
	}
	if err := s.failure(ctx, u.Email, u.Email, c, "second factor"); bindery.ErrorCode(err) == bindery.ETOOMANY {
		return "", err
	}
	return "", errBadCode
}

// Reauthenticate asks the caller to prove, again, that they are the
// account's owner before something irreversible (deleting the account,
// turning the second factor off): the password and, when on, a code. Both
// go through the brute-force guard.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, password, code string, c Client) error {
	if err := s.checkOwnPassword(ctx, p, password, c); err != nil {
		return err
	}
	if !p.User.TwoFactor {
		return nil
	}
	if strings.TrimSpace(code) == "" {
		return errSecondFactor
	}
	if _, err := s.checkSecondFactor(ctx, p.User, code, c); err != nil {
		if bindery.ErrorCode(err) == bindery.EUNAUTHORIZED {
			return bindery.Errorf(bindery.EUNPROCESSABLE, "The code is wrong or was already used.")
		}
		return err
	}
	return nil
}

// checkOwnPassword checks a signed-in user's password, re-entered, through
// the guard. A wrong one is EUNPROCESSABLE, not EUNAUTHORIZED: the caller
// is signed in, and a 401 would tell the dashboard to sign them out.
func (s *Service) checkOwnPassword(ctx context.Context, p *Principal, password string, c Client) error {
	if _, err := s.CheckPassword(ctx, p.User.Email, password, c); err != nil {
		if bindery.ErrorCode(err) == bindery.EUNAUTHORIZED {
			return bindery.Errorf(bindery.EUNPROCESSABLE, "The password is wrong.")
		}
		return err
	}
	return nil
}

// Enrolment is what BeginTwoFactor returns for the authenticator app.
type Enrolment struct {
	Secret string `json:"secret"` // base32, for typing in by hand
	URI    string `json:"uri"`    // otpauth://…, what the QR code holds
}

// BeginTwoFactor starts an enrolment (the password re-entered): a new
// secret, stored encrypted, not yet required at sign-in. ECONFLICT when
// the second factor is already on.
func (s *Service) BeginTwoFactor(ctx context.Context, p *Principal, password string, c Client) (*Enrolment, error) {
	if err := s.checkOwnPassword(ctx, p, password, c); err != nil {
		return nil, err
	}
	secret := totp.NewSecret()
	if err := s.store.SetTwoFactorSecret(ctx, p.User.ID, secret, s.now()); err != nil {
		return nil, err
	}
	return &Enrolment{Secret: secret, URI: totp.URI(secret, p.User.Email)}, nil
}

// EnrolmentQR returns the PNG QR code of the pending enrolment of p.
// ENOTFOUND once the factor is on: its secret is never shown again.
func (s *Service) EnrolmentQR(ctx context.Context, p *Principal) ([]byte, error) {
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if tf.EnabledAt != nil || tf.Secret == "" {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "There is no pending two-factor enrolment.")
	}
	return totp.QRCode(totp.URI(tf.Secret, p.User.Email))
}

// ConfirmTwoFactor turns the second factor on once the user proves their
// app makes the right codes. It returns the ten recovery codes (shown
// once; only their hashes are kept) and the CredentialChange: every
// session opened before — with only a password — and every API token is
// revoked (a token made by whoever had the password alone would outlive
// the new factor by up to a year); a browser gets a new session.
func (s *Service) ConfirmTwoFactor(ctx context.Context, p *Principal, code string, c Client) (codes []string, ch CredentialChange, err error) {
	if left, blocked := s.guard.Blocked(c.Addr); blocked {
		return nil, ch, blockedError(left)
	}
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return nil, ch, err
	}
	if tf.EnabledAt != nil {
		return nil, ch, bindery.Errorf(bindery.ECONFLICT, "Two-factor sign-in is already on.")
	}
	if tf.Secret == "" {
		return nil, ch, bindery.Errorf(bindery.ENOTFOUND, "There is no pending two-factor enrolment; start again.")
	}
	step, ok := totp.Verify(tf.Secret, code, s.now(), 0)
	if !ok {
		if err := s.failure(ctx, p.User.Email, p.User.Email, c, "two-factor enrolment"); bindery.ErrorCode(err) == bindery.ETOOMANY {
			return nil, ch, err
		}
		return nil, ch, bindery.Errorf(bindery.EUNPROCESSABLE, "That code does not match; check the time on your phone and try the next one.")
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := s.store.EnableTwoFactor(ctx, p.User.ID, step, hashes, s.now()); err != nil {
		return nil, ch, err
	}
	if ch.RevokedTokens, err = s.revokeCredentials(ctx, p.User.ID); err != nil {
		return nil, ch, err
	}
	s.Audit(ctx, actorEvent(bindery.AuditTwoFactorEnabled, p.User, c, bindery.UserTarget(p.User.ID), fmt.Sprintf("earlier sessions and %d API tokens revoked", ch.RevokedTokens)))
	if p.Session == nil {
		return codes, ch, nil
	}
	u := *p.User
	u.TwoFactor = true
	ch.Session, err = s.newSession(ctx, &u, c)
	return codes, ch, err
}

// DisableTwoFactor turns the second factor off (password and a code
// re-entered). Refused when the policy requires it for this account.
func (s *Service) DisableTwoFactor(ctx context.Context, p *Principal, password, code string, c Client) error {
	if s.twoFactor.Required(p.User) {
		return bindery.Errorf(bindery.ECONFLICT, "Two-factor sign-in is required for your account and cannot be turned off.")
	}
	if !p.User.TwoFactor {
		return bindery.Errorf(bindery.ECONFLICT, "Two-factor sign-in is not on.")
	}
	if err := s.Reauthenticate(ctx, p, password, code, c); err != nil {
		return err
	}
	if err := s.store.DisableTwoFactor(ctx, p.User.ID, s.now()); err != nil {
		return err
	}
	s.cache.invalidate()
	s.Audit(ctx, actorEvent(bindery.AuditTwoFactorDisabled, p.User, c, bindery.UserTarget(p.User.ID), ""))
	return nil
}

// RenewRecoveryCodes replaces the recovery codes (password and a code
// re-entered) and returns the new ones.
func (s *Service) RenewRecoveryCodes(ctx context.Context, p *Principal, password, code string, c Client) ([]string, error) {
	if !p.User.TwoFactor {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Two-factor sign-in is not on.")
	}
	if err := s.Reauthenticate(ctx, p, password, code, c); err != nil {
		return nil, err
	}
	codes, hashes := totp.NewRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, p.User.ID, hashes); err != nil {
		return nil, err
	}
	s.Audit(ctx, actorEvent(bindery.AuditRecoveryCodesNew, p.User, c, bindery.UserTarget(p.User.ID), ""))
	return codes, nil
}

// ResetTwoFactor turns off the second factor of user id for someone who
// lost their device and their recovery codes, and signs them out
// everywhere. For admins (actor) and the command line (actor nil); the
// user can enrol again at their next sign-in.
func (s *Service) ResetTwoFactor(ctx context.Context, actor *bindery.User, id int64, c Client) error {
	if err := s.store.DisableTwoFactor(ctx, id, s.now()); err != nil {
		return err
	}
	if _, err := s.store.DeleteUserSessions(ctx, id, ""); err != nil {
		return err
	}
	s.revoked(Revocation{UserID: id})
	s.Audit(ctx, actorEvent(bindery.AuditTwoFactorReset, actor, c, bindery.UserTarget(id), "sessions revoked"))
	return nil
}

// MustEnrol reports whether the policy requires u to use a second factor
// that u has not turned on yet: until then, only enrolment and u's own
// account routes are open to u.
func (s *Service) MustEnrol(u *bindery.User) bool { return s.twoFactor.Required(u) && !u.TwoFactor }

// TwoFactorPolicy returns the configured policy.
func (s *Service) TwoFactorPolicy() TwoFactorPolicy { return s.twoFactor }
