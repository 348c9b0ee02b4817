// Package e2e drives the real bindery binary through a real browser
// (Chromium over the DevTools protocol, with chromedp): set-up and
// sign-in, books and uploads, live runs, roles, XSS and CSP checks, the
// offline banner across a server restart, and load-time figures; the
// Account and Admin screens' two-factor sign-in (enrolment, sign-in with a
// recovery code, the policy's gate) and privacy features (export, account
// deletion with the books given away or deleted).
//
// The tests need a Chromium: $BINDERY_CHROMIUM, or chromium on the PATH
// (Debian: apt-get install chromium). Without one they skip, except when
// CI=true, where they fail. Screenshots of the main screens go to
// $BINDERY_TEST_ARTIFACTS when set (a temporary folder otherwise).
// $BINDERY_TEST_BINARY runs a prebuilt binary instead of building one.
package e2e
