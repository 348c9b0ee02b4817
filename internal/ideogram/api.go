package ideogram

// This file is the only one that knows Ideogram's wire format: the path of
// the generate endpoint, the form fields, the header carrying the key and
// the shape of the JSON answer. It follows the public reference of
// "Generate with Ideogram 3.0"
// (https://developer.ideogram.ai/api-reference/api-reference/generate-v3):
//
//	POST {base}/v1/ideogram-v3/generate
//	Api-Key: <key>
//	Content-Type: multipart/form-data
//	prompt, seed, aspect_ratio ("2x3"), rendering_speed, magic_prompt,
//	negative_prompt, num_images, style_type
//
//	200 {"created": "…", "data": [{"url": "…", "prompt": "…",
//	     "resolution": "832x1248", "is_image_safe": true, "seed": 123,
//	     "style_type": "GENERAL"}]}
//
// Image links expire, so the image is downloaded at once.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
)

const (
	generatePath = "/v1/ideogram-v3/generate"
	keyHeader    = "Api-Key"

	// Model names the generation model in cache keys and records.
	Model = "ideogram-v3"

	// MaxPromptRunes bounds a prompt. Ideogram documents no limit for 3.0;
	// this keeps untrusted metadata from producing megabyte requests.
	MaxPromptRunes = 2000

	// maxImagesInResponse bounds how many image objects we look at.
	maxImagesInResponse = 8
)

// Accepted values of the request's enumerated fields, from the reference.
var (
	aspectRatios    = []string{"1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10", "2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1"}
	renderingSpeeds = []string{"FLASH", "TURBO", "DEFAULT", "QUALITY"}
	styleTypes      = []string{"AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION"}
	magicPrompts    = []string{"AUTO", "ON", "OFF"}
)

// Request is one image to generate. Empty fields take the defaults below;
// every field takes part in the cache key (Request.CacheKey).
type Request struct {
	Prompt         string // required; at most MaxPromptRunes
	NegativePrompt string // optional
	AspectRatio    string // "2x3" (a book cover's shape) when empty
	RenderingSpeed string // "TURBO" when empty: the cheapest tier that reads well
	StyleType      string // "AUTO" when empty
	// MagicPrompt is "OFF" when empty: Ideogram's prompt rewriting would make
	// the same request give different images, which defeats the cache.
	MagicPrompt string
	// Seed fixes Ideogram's random seed (0…2147483647) when positive; zero
	// lets Ideogram choose.
	Seed int64
}

// normalized returns r with defaults filled in and values upper-cased, or
// an EINVALID error.
func (r Request) normalized() (Request, error) {
	r.Prompt = strings.TrimSpace(r.Prompt)
	if r.Prompt == "" {
		return r, bindery.Errorf(bindery.EINVALID, "An image prompt is empty.")
	}
	if !utf8.ValidString(r.Prompt) || !utf8.ValidString(r.NegativePrompt) {
		return r, bindery.Errorf(bindery.EINVALID, "An image prompt is not valid UTF-8.")
	}
	if utf8.RuneCountInString(r.Prompt) > MaxPromptRunes || utf8.RuneCountInString(r.NegativePrompt) > MaxPromptRunes {
		return r, bindery.Errorf(bindery.EINVALID, "An image prompt is longer than %d characters.", MaxPromptRunes)
	}
	var err error
	pick := func(field, v, def string, allowed []string) string {
		v = strings.ToUpper(strings.TrimSpace(v))
		if field == "aspect ratio" {
			v = strings.ToLower(strings.ReplaceAll(v, ":", "x"))
		}
		if v == "" {
			return def
		}
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		if err == nil {
			err = bindery.Errorf(bindery.EINVALID, "The image %s must be one of %s.", field, strings.Join(allowed, ", "))
		}
		return def
	}
	r.AspectRatio = pick("aspect ratio", r.AspectRatio, "2x3", aspectRatios)
	r.RenderingSpeed = pick("rendering speed", r.RenderingSpeed, "TURBO", renderingSpeeds)
	r.StyleType = pick("style type", r.StyleType, "AUTO", styleTypes)
	r.MagicPrompt = pick("magic prompt option", r.MagicPrompt, "OFF", magicPrompts)
	if r.Seed < 0 || r.Seed > 2147483647 {
		return r, bindery.Errorf(bindery.EINVALID, "The image seed must be between 0 and 2147483647.")
	}
	return r, err
}

// encodeGenerate returns the multipart body and its content type for r,
// which must be normalized. The body is built once and resent on retries.
func encodeGenerate(r Request) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"prompt", r.Prompt},
		{"aspect_ratio", r.AspectRatio},
		{"rendering_speed", r.RenderingSpeed},
		{"style_type", r.StyleType},
		{"magic_prompt", r.MagicPrompt},
		{"num_images", "1"},
	}
	if r.NegativePrompt != "" {
		fields = append(fields, [2]string{"negative_prompt", r.NegativePrompt})
	}
	if r.Seed > 0 {
		fields = append(fields, [2]string{"seed", strconv.FormatInt(r.Seed, 10)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// setKey puts the key on an API request. The only caller of Key.Reveal.
func setKey(req *http.Request, k Key) { req.Header.Set(keyHeader, k.Reveal()) }

// generated is the part of Ideogram's answer that we use.
type generated struct {
	URL        string
	Prompt     string // the prompt Ideogram used (rewritten when MagicPrompt is on)
	Resolution string
	Seed       int64
	StyleType  string
}

// generateResponse mirrors the JSON answer. created is a timestamp string
// in the reference but is not used, so its type is not relied upon.
type generateResponse struct {
	Created json.RawMessage `json:"created"`
	Data    []struct {
		URL         *string `json:"url"`
		Prompt      string  `json:"prompt"`
		Resolution  string  `json:"resolution"`
		IsImageSafe *bool   `json:"is_image_safe"`
		Seed        int64   `json:"seed"`
		StyleType   string  `json:"style_type"`
	} `json:"data"`
}

// parseGenerateResponse reads the answer of a successful generate call and
// returns its first usable image. It never panics on any input (see
// FuzzParseGenerateResponse); a returned URL is always an absolute http(s)
// URL with a host. Errors are *bindery.Error with safe messages.
func parseGenerateResponse(body []byte) (generated, error) {
	var resp generateResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return generated{}, bindery.Errorf(bindery.EINTERNAL, "The image service sent an unreadable answer.")
	}
	if len(resp.Data) == 0 {
		return generated{}, bindery.Errorf(bindery.EINTERNAL, "The image service sent no image.")
	}
	unsafe := false
	for i, d := range resp.Data {
		if i == maxImagesInResponse {
			break
		}
		if d.IsImageSafe != nil && !*d.IsImageSafe {
			unsafe = true
			continue
		}
		if d.URL == nil {
			continue
		}
		u, err := checkImageURL(*d.URL)
		if err != nil {
			return generated{}, err
		}
		return generated{
			URL:        u.String(),
			Prompt:     clipRunes(d.Prompt, MaxPromptRunes*2),
			Resolution: clipRunes(d.Resolution, 32),
			Seed:       d.Seed,
			StyleType:  clipRunes(d.StyleType, 32),
		}, nil
	}
	if unsafe {
		return generated{}, bindery.Errorf(bindery.EUNPROCESSABLE, "The image service flagged the generated image as unsafe.")
	}
	return generated{}, bindery.Errorf(bindery.EINTERNAL, "The image service sent no image link.")
}

// maxImageURLBytes bounds an image link.
const maxImageURLBytes = 4096

// checkImageURL accepts only absolute http and https URLs with a host and
// no user information. The error never repeats the URL: signed links carry
// their own credentials.
func checkImageURL(raw string) (*url.URL, error) {
	bad := bindery.Errorf(bindery.EINTERNAL, "The image service sent an image link that is not an http(s) URL.")
	if len(raw) > maxImageURLBytes {
		return nil, bad
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, bad
	}
	if u.Hostname() == "" {
		return nil, bad
	}
	return u, nil
}

// apiDetail extracts a short human message from an error answer, for the
// 4xx errors a user can act on (for example a prompt refused by the safety
// check). It keeps printable text only, at most 160 characters, and removes
// the key should a server ever echo it.
func apiDetail(body []byte, k Key) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	for _, raw := range []json.RawMessage{e.Detail, e.Error} {
		if msg != "" {
			break
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			msg = s
		}
	}
	if v := k.Reveal(); v != "" {
		msg = strings.ReplaceAll(msg, v, "[REDACTED]")
	}
	return clipRunes(printable(msg), 160)
}

// clipRunes returns s cut to at most n runes, with an ellipsis when cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// printable replaces control characters and invalid UTF-8 with spaces and
// collapses runs of white space.
func printable(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			r = ' '
		}
		if r == ' ' || r == '\u00a0' || r == '\u3000' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// statusText is the short, safe description of an HTTP status in errors.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}
