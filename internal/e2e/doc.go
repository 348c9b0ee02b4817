// Package e2e drives the real bindery binary through a real browser
// (Chromium over the DevTools protocol, with chromedp): set-up and
// sign-in, books and uploads, live runs, roles, XSS and CSP checks, the
// offline banner across a server restart, and load-time figures.
//
// The tests need a Chromium: $BINDERY_CHROMIUM, or chromium on the PATH
// (Debian: apt-get install chromium). Without one they skip, except when
// CI=true, where they fail. Screenshots of the main screens go to
// $BINDERY_TEST_ARTIFACTS when set (a temporary folder otherwise).
// $BINDERY_TEST_BINARY runs a prebuilt binary instead of building one.
package e2e
