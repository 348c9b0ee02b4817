// Package ideogram is the engine of the images stage: it generates book
// covers with Ideogram's image API, keeps every paid-for image in a
// content-addressed cache, and draws a plain typographic cover locally when
// no API key is configured, so that a run never fails for lack of a key.
//
// The pieces, each in its own file:
//
//   - KeySource (key_source.go) holds the API keys: the unversioned
//     IDEOGRAM_API_KEY or the versions IDEOGRAM_API_KEY_V1…Vn with the
//     pointer IDEOGRAM_API_KEY_CURRENT_VERSION kept apart from them
//     (NOTES.md #4). It re-reads *_FILE secrets when they change on disk and
//     on Reload (SIGHUP), and reports which version is active, never a value.
//   - Client (client.go, retry.go) talks to the API: bounded retries with
//     exponential back-off and full jitter, Retry-After, a deadline, body
//     size limits, and image checks. The wire format lives alone in api.go.
//   - Cache (cache.go) stores images by the SHA-256 of everything that
//     decides them, with a small JSON record beside each (prompt, model,
//     cost estimate, time, alt text).
//   - RenderCover (cover.go) draws title, subtitle and authors in Noto
//     Serif on a colour derived from the title: pure Go, deterministic.
//   - Generator (generator.go) ties them together for the pipeline.
//
// Why the key is handled with such care: it is a bearer credential that
// spends money. It travels only in the Api-Key header of requests to the
// configured API host (never to the image host, never across a redirect);
// it is wrapped in Key, whose every printed form is redacted; and errors
// carry an HTTP status and a short message of our own, never a response
// body or a transport error verbatim. Tests push a known key through every
// failure path and look for it in errors and logs.
package ideogram
