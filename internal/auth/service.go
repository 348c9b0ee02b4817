package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// Service is the one place where credentials are checked and accounts
// change. Every method that changes something appends to the audit log.
type Service struct {
	store  Store
	hasher *Hasher
	guard  *Guard
	log    *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error

	sessionTTL  time.Duration
	sessionIdle time.Duration

	cache    *principalCache
	onRevoke func(Revocation)
	observe  func(string)

	secrets      *secretbox.Keyring
	twoFactor    TwoFactorPolicy
	pseudonymize func(string) string

	// dummyHash is verified against when an e-mail matches no user, so
	// that "no such user" costs the same time as "wrong password" and the
	// response cannot be used to discover accounts. Made on first use.
	dummyOnce sync.Once
	dummyHash string
	dummyErr  error
}

// Config configures NewService. Zero durations take the defaults of
// CONTRACT.md §2 (24 h, 2 h).
type Config struct {
	Store       Store
	Hasher      *Hasher // default NewHasher(DefaultParams)
	Guard       *Guard
	Logger      *slog.Logger
	Now         func() time.Time                           // default time.Now
	Sleep       func(context.Context, time.Duration) error // default a timer that honours ctx
	SessionTTL  time.Duration
	SessionIdle time.Duration
	// Observe, when set, is told of sign-in outcomes for metrics:
	// "ok", "failed", "blocked" (an attempt refused because of a block)
	// and "block" (an address just got blocked).
	Observe func(event string)
	// OnRevoke, when set, is told of every revocation (after it is
	// stored), so that live connections opened with the revoked
	// credential — WebSockets — can be closed.
	OnRevoke func(Revocation)
	// Secrets seals sign-in challenges (password done, code pending).
	// Default: a keyring with a random key, good for one process.
	Secrets *secretbox.Keyring
	// TwoFactor is whose accounts must use a second factor.
	TwoFactor TwoFactorPolicy
	// Pseudonymize turns the address an anonymous actor claimed (a failed
	// sign-in) into the audit log's subject: the log never holds an
	// address. Default: a keyed hash under a random per-process key (see
	// randomPseudonymizer).
	Pseudonymize func(email string) string
}

// Revocation says whose credentials just stopped working: every session
// and token of UserID, or only SessionID / TokenID when set; All: everyone.
type Revocation struct {
	UserID    int64
	SessionID string
	TokenID   string
	All       bool
}

// NewService returns a Service.
func NewService(ctx context.Context, c Config) (*Service, error) {
	s := &Service{
		store: c.Store, hasher: c.Hasher, guard: c.Guard, log: c.Logger, now: c.Now, sleep: c.Sleep,
		sessionTTL: c.SessionTTL, sessionIdle: c.SessionIdle, cache: newPrincipalCache(), onRevoke: c.OnRevoke, observe: c.Observe,
		secrets: c.Secrets, twoFactor: c.TwoFactor, pseudonymize: c.Pseudonymize,
	}
	if s.secrets == nil {
		kr, err := secretbox.NewKeyring(secretbox.GenerateKey())
		if err != nil {
			return nil, err
		}
		s.secrets = kr
	}
	if s.pseudonymize == nil {
		s.pseudonymize = randomPseudonymizer()
	}
	if s.hasher == nil {
		s.hasher = NewHasher(DefaultParams)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.guard == nil {
		s.guard = NewGuard(GuardConfig{MaxFailures: 5, Window: 15 * time.Minute, BlockDuration: 15 * time.Minute, Now: s.now})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.observe == nil {
		s.observe = func(string) {}
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = 24 * time.Hour
	}
	if s.sessionIdle <= 0 {
		s.sessionIdle = 2 * time.Hour
	}
	// Warm the dummy hash now, so that the first probe of an unknown
	// account does not take twice as long as a wrong password.
	go s.dummy(ctx)
	return s, nil
}

// dummy returns the hash verified for unknown accounts: a hash of a random
// secret nobody knows, with the same parameters as real hashes, so that it
// costs the same to check.
func (s *Service) dummy(ctx context.Context) (string, error) {
	s.dummyOnce.Do(func() {
		tok, _ := NewToken("")
		s.dummyHash, s.dummyErr = s.hasher.Hash(context.WithoutCancel(ctx), tok)
	})
	return s.dummyHash, s.dummyErr
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forget drops cached principals, after a change to an account that
// requests must see at once (its name, its second factor).
func (s *Service) Forget() { s.cache.invalidate() }

// Guard returns the brute-force guard (for the admin block routes).
func (s *Service) Guard() *Guard { return s.guard }

// Hasher returns the password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Client describes where a request came from, for sessions and the audit log.
type Client struct {
	Addr      netip.Addr
	UserAgent string
}

func (c Client) addr() string {
	if !c.Addr.IsValid() {
		return ""
	}
	return c.Addr.String()
}

// Principal is an authenticated caller: a user with either a browser
// session or an API token. Principals may be shared between requests (see
// principalCache): treat them as read-only.
type Principal struct {
	User    *bindery.User
	Session *bindery.Session  // nil for API tokens
	Token   *bindery.APIToken // nil for sessions
}

// Audit appends an audit event stamped with the service clock. Failures
// to audit are logged, not returned: an audit outage must be visible, but
// the caller's action has already happened.
func (s *Service) Audit(ctx context.Context, e bindery.AuditEvent) {
	e.At = s.now()
	if err := s.store.AppendAudit(ctx, &e); err != nil {
		s.log.Error("audit append failed", "action", e.Action, "err", err)
	}
}

func actorID(u *bindery.User) *int64 {
	if u == nil {
		return nil
	}
	id := u.ID
	return &id
}

// actorEvent is an audit entry by actor (nil: the command line). People
// are named by id only (bindery.UserTarget), never by address.
func actorEvent(action string, actor *bindery.User, c Client, target, detail string) bindery.AuditEvent {
	return bindery.AuditEvent{Action: action, ActorID: actorID(actor), ClientAddr: c.addr(), Target: target, Detail: detail}
}

var errBadCredentials = bindery.Errorf(bindery.EUNAUTHORIZED, "Wrong e-mail address or password.")

// blockedError is the answer to every attempt from a blocked address.
func blockedError(left time.Duration) error {
	return &bindery.Error{Code: bindery.ETOOMANY, Message: "Too many failed sign-in attempts from your address; try again later.", RetryAfter: left}
}

// CheckPassword verifies email and password for a sign-in from c, with the
// brute-force guard around it. It returns the user, or EUNAUTHORIZED with
// the same message whether the account exists or not, or ETOOMANY with
// RetryAfter while c's address is blocked (even for the right password).
//
// A right password does not clear the guard's failure counts: with
// two-factor sign-in on it is only half of a sign-in, and clearing the
// counts there would give whoever knows the password unlimited guesses at
// the code. completeLogin clears them once the sign-in is whole.
func (s *Service) CheckPassword(ctx context.Context, email, password string, c Client) (*bindery.User, error) {
	if left, blocked := s.guard.Blocked(c.Addr); blocked {
		s.observe("blocked")
		return nil, blockedError(left)
	}
	norm, err := bindery.NormalizeEmail(email)
	if err != nil || len(password) > 4*MaxPasswordLength {
		// Count malformed attempts too, or they would be free guesses.
		return nil, s.failure(ctx, "", email, c, "malformed")
	}
	if err := s.sleep(ctx, s.guard.AccountDelay(norm)); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, norm)
	var hash string
	if err == nil {
		hash = u.PasswordHash
	} else if bindery.ErrorCode(err) != bindery.ENOTFOUND {
		return nil, err
	} else if hash, err = s.dummy(ctx); err != nil {
		return nil, err
	}
	ok, verr := s.hasher.Verify(ctx, password, hash)
	if verr != nil && u != nil {
		s.log.Error("stored password hash unusable", "user_id", u.ID, "err", verr)
	}
	if u == nil || !ok || verr != nil {
		return nil, s.failure(ctx, norm, norm, c, "")
	}
	return u, nil
}

// failure records a failed attempt, audits it and, if it tipped the
// address over the limit, audits and logs the block.
func (s *Service) failure(ctx context.Context, account, claimed string, c Client, detail string) error {
	if len(claimed) > bindery.MaxEmailLength {
		claimed = claimed[:bindery.MaxEmailLength]
	}
	s.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditLoginFailed, Subject: s.pseudonym(claimed), ClientAddr: c.addr(), Detail: detail})
	s.observe("failed")
	if d, now := s.guard.Failure(c.Addr, account); now {
		s.observe("block")
		s.log.Warn("address blocked after repeated sign-in failures", "client_addr", c.addr(), "duration", d.String())
		s.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditAddressBlocked, ClientAddr: c.addr(), Target: c.addr(), Detail: "for " + d.String()})
		return blockedError(d)
	}
	return errBadCredentials
}

// Login checks the credentials and starts a new session. The previous
// session of the same browser (replaced, if any) is deleted: a new token
// at every sign-in defeats session fixation.
//
// For an account with two-factor sign-in on, code is its authenticator
// code or a recovery code; when code is empty the error is a
// *SecondFactorNeeded (code ESECONDFACTOR) whose challenge FinishLogin
// takes with the code.
func (s *Service) Login(ctx context.Context, email, password, code string, c Client, replaced string) (*bindery.User, string, error) {
	u, err := s.CheckPassword(ctx, email, password, c)
	if err != nil {
		return nil, "", err
	}
	return s.completeLogin(ctx, u, code, c, replaced, nil)
}

func (s *Service) newSession(ctx context.Context, u *bindery.User, c Client) (string, error) {
	tok, hash := NewToken(SessionPrefix)
	now := s.now()
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	err := s.store.CreateSession(ctx, &bindery.Session{
		ID: newID(), UserID: u.ID, TokenHash: hash, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.sessionTTL), ClientAddr: c.addr(), UserAgent: ua,
	})
	return tok, err
}

// touchEvery limits how often a session's last-seen time is written:
// the idle timeout is enforced to within this much, and a busy client does
// not turn every read into a database write.
const touchEvery = time.Minute

// Authenticate returns the principal for a session token or API token, or
// EUNAUTHORIZED. Expired sessions and tokens are deleted on sight. The user
// is read fresh on every call, so a role change applies to the next
// request.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	now := s.now()
	hash := HashToken(token)
	if p := s.cache.get(hash, now); p != nil && s.stillValid(p, now) {
		return p, nil
	}
	p, err := s.authenticate(ctx, token, hash, now)
	if err == nil {
		s.cache.put(hash, p, now)
	}
	return p, err
}

// revoked clears the principal cache and tells OnRevoke.
func (s *Service) revoked(r Revocation) {
	s.cache.invalidate()
	if s.onRevoke != nil {
		s.onRevoke(r)
	}
}

// stillValid re-checks a cached principal's expiry against the clock.
func (s *Service) stillValid(p *Principal, now time.Time) bool {
	if p.Session != nil {
		return now.Before(p.Session.ExpiresAt) && now.Sub(p.Session.LastSeenAt) < s.sessionIdle
	}
	return now.Before(p.Token.ExpiresAt)
}

func (s *Service) authenticate(ctx context.Context, token string, hash []byte, now time.Time) (*Principal, error) {
	unauth := bindery.Errorf(bindery.EUNAUTHORIZED, "Please sign in.")
	switch {
	case wellFormed(token, SessionPrefix):
		sess, u, err := s.store.SessionByTokenHash(ctx, hash)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return nil, unauth
		} else if err != nil {
			return nil, err
		}
		if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.sessionIdle {
			_ = s.store.DeleteSession(ctx, u.ID, sess.ID)
			return nil, bindery.Errorf(bindery.EUNAUTHORIZED, "Your session has expired; please sign in again.")
		}
		if now.Sub(sess.LastSeenAt) >= touchEvery {
			if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
				return nil, err
			}
			sess.LastSeenAt = now
		}
		return &Principal{User: u, Session: sess}, nil
	case wellFormed(token, APITokenPrefix):
		t, u, err := s.store.APITokenByHash(ctx, hash)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return nil, unauth
		} else if err != nil {
			return nil, err
		}
		if !now.Before(t.ExpiresAt) {
			_ = s.store.DeleteAPIToken(ctx, u.ID, t.ID)
			return nil, bindery.Errorf(bindery.EUNAUTHORIZED, "This API token has expired.")
		}
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
			if err := s.store.TouchAPIToken(ctx, t.ID, now); err != nil {
				return nil, err
			}
		}
		return &Principal{User: u, Token: t}, nil
	}
	return nil, unauth
}

// Logout deletes the session with this token, if any.
func (s *Service) Logout(ctx context.Context, token string, c Client) {
	if !wellFormed(token, SessionPrefix) {
		return
	}
	sess, u, err := s.store.SessionByTokenHash(ctx, HashToken(token))
	if err != nil {
		return
	}
	if s.store.DeleteSession(ctx, u.ID, sess.ID) == nil {
		s.revoked(Revocation{UserID: u.ID, SessionID: sess.ID})
		s.Audit(ctx, actorEvent(bindery.AuditLogout, u, c, "", ""))
	}
}

// CredentialChange is what a change of the sign-in credentials did (a new
// password, a second factor turned on): the fresh session for the browser
// that made it ("" when the caller used an API token) and how many API
// tokens were revoked.
type CredentialChange struct {
	Session       string
	RevokedTokens int
}

// revokeCredentials deletes every session and every API token of user id
// (sessions first: they are what a thief most likely holds), tells
// OnRevoke, and returns how many tokens went. Both kinds of credential
// are revoked on a password change and when a second factor is turned
// on: whoever stole either must not keep access that the change was
// meant to end — a token keeps up to a year of access.
func (s *Service) revokeCredentials(ctx context.Context, id int64) (int, error) {
	if _, err := s.store.DeleteUserSessions(ctx, id, ""); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteUserAPITokens(ctx, id)
	s.revoked(Revocation{UserID: id})
	return n, err
}

// ChangePassword checks the current password, sets the new one, revokes
// every session and API token of the user and starts a fresh session for
// this browser — anyone who stole a session or a token loses it. A caller
// using an API token loses that token too.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string, c Client) (CredentialChange, error) {
	var ch CredentialChange
	if err := s.checkOwnPassword(ctx, p, current, c); err != nil {
		return ch, err
	}
	if err := CheckPassword(next, p.User.Email); err != nil {
		return ch, err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return ch, err
	}
	if err := s.store.UpdateUserPassword(ctx, p.User.ID, hash, s.now()); err != nil {
		return ch, err
	}
	if ch.RevokedTokens, err = s.revokeCredentials(ctx, p.User.ID); err != nil {
		return ch, err
	}
	s.Audit(ctx, actorEvent(bindery.AuditPasswordChange, p.User, c, bindery.UserTarget(p.User.ID), fmt.Sprintf("all sessions and %d API tokens revoked", ch.RevokedTokens)))
	if p.Session == nil {
		return ch, nil
	}
	ch.Session, err = s.newSession(ctx, p.User, c)
	return ch, err
}

// RevokeSession deletes one of the caller's own sessions.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, id string, c Client) error {
	if err := s.store.DeleteSession(ctx, p.User.ID, id); err != nil {
		return err
	}
	s.revoked(Revocation{UserID: p.User.ID, SessionID: id})
	s.Audit(ctx, actorEvent(bindery.AuditSessionRevoked, p.User, c, id, ""))
	return nil
}

// RevokeAllSessions deletes every session of every user (incident
// response: `bindery sessions revoke --all`).
func (s *Service) RevokeAllSessions(ctx context.Context, c Client) (int, error) {
	n, err := s.store.DeleteAllSessions(ctx)
	s.revoked(Revocation{All: true})
	if err == nil {
		s.Audit(ctx, actorEvent(bindery.AuditSessionRevoked, nil, c, "all", fmt.Sprintf("%d sessions", n)))
	}
	return n, err
}

// CreateUser creates an account after checking e-mail, role and password
// policy. actor is nil for the command line.
func (s *Service) CreateUser(ctx context.Context, actor *bindery.User, email string, role bindery.Role, password string, c Client) (*bindery.User, error) {
	norm, err := bindery.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, bindery.Errorf(bindery.EINVALID, "Unknown role %q: use admin, author, editor or viewer.", role)
	}
	if err := CheckPassword(password, norm); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &bindery.User{Email: norm, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.Audit(ctx, actorEvent(bindery.AuditUserCreated, actor, c, bindery.UserTarget(u.ID), "role "+string(role)))
	return u, nil
}

// SetRole changes a user's role and revokes all their sessions, so the
// change cannot be outlived by a session opened under the old role. An
// admin cannot demote themselves (there would be no way back if they were
// the last admin); the last admin cannot be demoted at all.
func (s *Service) SetRole(ctx context.Context, actor *bindery.User, id int64, role bindery.Role, c Client) (*bindery.User, error) {
	if !role.Valid() {
		return nil, bindery.Errorf(bindery.EINVALID, "Unknown role %q: use admin, author, editor or viewer.", role)
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Role == role {
		return u, nil
	}
	if u.Role == bindery.RoleAdmin {
		if actor != nil && actor.ID == u.ID {
			return nil, bindery.Errorf(bindery.ECONFLICT, "You cannot change your own role; ask another admin.")
		}
		if err := s.keepAnAdmin(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateUserRole(ctx, id, role, s.now()); err != nil {
		return nil, err
	}
	if _, err := s.store.DeleteUserSessions(ctx, id, ""); err != nil {
		return nil, err
	}
	s.revoked(Revocation{UserID: id})
	s.Audit(ctx, actorEvent(bindery.AuditRoleChanged, actor, c, bindery.UserTarget(u.ID), string(u.Role)+" → "+string(role)))
	u.Role = role
	return u, nil
}

// keepAnAdmin fails with ECONFLICT when only one admin is left.
func (s *Service) keepAnAdmin(ctx context.Context) error {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	admins := 0
	for _, u := range users {
		if u.Role == bindery.RoleAdmin {
			admins++
		}
	}
	if admins <= 1 {
		return bindery.Errorf(bindery.ECONFLICT, "This is the last admin; make another user admin first.")
	}
	return nil
}

// DeleteUser deletes an account with its sessions and tokens (an admin
// deleting someone else). The same last-admin and self rules as SetRole
// apply; people delete their own account with DeleteAccount.
func (s *Service) DeleteUser(ctx context.Context, actor *bindery.User, id int64, c Client) error {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if actor != nil && actor.ID == u.ID {
		return bindery.Errorf(bindery.ECONFLICT, "You cannot delete your own account here.")
	}
	return s.DeleteAccount(ctx, actor, u, c)
}

// CheckDeletable fails with ECONFLICT when u is the last admin.
func (s *Service) CheckDeletable(ctx context.Context, u *bindery.User) error {
	if u.Role == bindery.RoleAdmin {
		return s.keepAnAdmin(ctx)
	}
	return nil
}

// DeleteAccount deletes u — by actor, who is u for someone deleting their
// own account, or nil for the command line: the account, its sessions,
// API tokens, memberships, second factor and encrypted personal data. The
// audit entry names the account by id only. The caller (privacy) deals
// with owned books first.
func (s *Service) DeleteAccount(ctx context.Context, actor, u *bindery.User, c Client) error {
	if err := s.CheckDeletable(ctx, u); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	s.revoked(Revocation{UserID: u.ID})
	detail := ""
	if actor != nil && actor.ID == u.ID {
		detail = "by the account's owner"
	}
	s.Audit(ctx, actorEvent(bindery.AuditUserDeleted, actor, c, bindery.UserTarget(u.ID), detail))
	return nil
}

// Token limits.
const (
	MaxTokenLifetime     = 366 * 24 * time.Hour
	DefaultTokenLifetime = 30 * 24 * time.Hour
	maxTokenName         = 100
)

// CreateAPIToken issues an API token for u, valid for ttl (default 30
// days, at most a year). The secret is returned once and stored hashed.
func (s *Service) CreateAPIToken(ctx context.Context, actor, u *bindery.User, name string, ttl time.Duration, c Client) (string, *bindery.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxTokenName {
		return "", nil, bindery.Errorf(bindery.EINVALID, "A token needs a name of 1 to %d characters.", maxTokenName)
	}
	if bad, found := bindery.NameRune(name); found {
		return "", nil, bindery.Errorf(bindery.EINVALID, "A token's name may not contain %s: it would display as something else.", bindery.DescribeRune(bad))
	}
	if ttl == 0 {
		ttl = DefaultTokenLifetime
	}
	if ttl < time.Minute || ttl > MaxTokenLifetime {
		return "", nil, bindery.Errorf(bindery.EINVALID, "A token's lifetime must be between 1 minute and 366 days.")
	}
	tok, hash := NewToken(APITokenPrefix)
	now := s.now()
	t := &bindery.APIToken{ID: newID(), UserID: u.ID, Name: name, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	s.Audit(ctx, actorEvent(bindery.AuditTokenCreated, actor, c, bindery.UserTarget(u.ID), "token "+t.ID+" "+name))
	return tok, t, nil
}

// RevokeAPIToken deletes one of u's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, u *bindery.User, id string, c Client) error {
	if err := s.store.DeleteAPIToken(ctx, u.ID, id); err != nil {
		return err
	}
	s.revoked(Revocation{UserID: u.ID, TokenID: id})
	s.Audit(ctx, actorEvent(bindery.AuditTokenRevoked, u, c, bindery.UserTarget(u.ID), "token "+id))
	return nil
}

// SetupTTL is how long the first-admin set-up link stays valid.
const SetupTTL = time.Hour

// NewSetupToken issues a one-time first-admin set-up token if and only if
// there are no users yet (ok is false when users exist). Tokens printed
// before stay valid until they expire (SetupTTL): every server of a
// cluster prints its own link at start-up, and each works — until the
// first admin is made through any of them, which ends them all.
func (s *Service) NewSetupToken(ctx context.Context) (token string, ok bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	tok, hash := NewToken(SetupPrefix)
	if err := s.store.AddSetupToken(ctx, hash, s.now().Add(SetupTTL), s.now()); err != nil {
		return "", false, err
	}
	return tok, true, nil
}

// CompleteSetup consumes the set-up token and creates the first admin,
// signed in. Bad tokens count as sign-in failures for the brute-force
// guard. The token is consumed before the account is created, so it works
// once even under concurrent use; if the password is then refused, a new
// link is needed (printed by restarting the server).
func (s *Service) CompleteSetup(ctx context.Context, token, email, password string, c Client) (*bindery.User, string, error) {
	if left, blocked := s.guard.Blocked(c.Addr); blocked {
		return nil, "", blockedError(left)
	}
	norm, err := bindery.NormalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	if err := CheckPassword(password, norm); err != nil {
		return nil, "", err // checked first so a typo does not burn the link
	}
	ok := false
	if wellFormed(token, SetupPrefix) {
		if ok, err = s.store.ConsumeSetupToken(ctx, HashToken(token), s.now()); err != nil {
			return nil, "", err
		}
	}
	if !ok {
		if err := s.failure(ctx, "", norm, c, "bad set-up token"); bindery.ErrorCode(err) == bindery.ETOOMANY {
			return nil, "", err
		}
		return nil, "", bindery.Errorf(bindery.EUNAUTHORIZED, "This set-up link is invalid, used or expired; restart the server for a new one.")
	}
	if n, err := s.store.CountUsers(ctx); err != nil {
		return nil, "", err
	} else if n > 0 {
		return nil, "", bindery.Errorf(bindery.ECONFLICT, "Bindery is already set up.")
	}
	u, err := s.CreateUser(ctx, nil, norm, bindery.RoleAdmin, password, c)
	if err != nil {
		return nil, "", err
	}
	s.Audit(ctx, actorEvent(bindery.AuditSetupCompleted, u, c, bindery.UserTarget(u.ID), ""))
	tok, err := s.newSession(ctx, u, c)
	return u, tok, err
}

// Sweep deletes expired sessions and API tokens and returns how many.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.now()
	defer s.cache.invalidate()
	n, err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.sessionIdle))
	if err != nil {
		return n, err
	}
	m, err := s.store.DeleteExpiredAPITokens(ctx, now)
	return n + m, err
}

// Store is what the auth service needs from a database.
type Store interface {
	bindery.UserStore
	bindery.TwoFactorStore
	bindery.SessionStore
	bindery.AuditStore
}
