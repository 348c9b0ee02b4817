package totp

import (
	"bytes"
	"image"
	"image/png"
	"net/url"

	"rsc.io/qr"
)

// Issuer names Bindery in authenticator apps.
const Issuer = "Bindery"

// URI returns the otpauth URI that enrols secret for account (the user's
// e-mail address) in an authenticator app, in the Key URI Format apps
// share: otpauth://totp/Bindery:<account>?secret=<secret>&issuer=Bindery.
// Algorithm, digits and period are left at their defaults (SHA-1, 6, 30),
// which some apps handle better than when they are spelled out.
//
// The URI holds the secret: show it (or its QR code) only to the user
// enrolling, over HTTPS, with `Cache-Control: no-store`, and never log it.
func URI(secret, account string) string {
	// PathEscape keeps "@" and ":" but escapes "/", "?", "#", spaces and
	// non-ASCII, so no address can spill out of the label.
	return "otpauth://totp/" + url.PathEscape(Issuer+":"+account) +
		"?secret=" + url.QueryEscape(secret) + "&issuer=" + url.QueryEscape(Issuer)
}

// QRScale is the size in pixels of one QR module in QRCode's image.
const QRScale = 6

// QRCode returns a PNG image of the QR code of uri (from URI) for an
// authenticator app to scan, with the quiet zone the QR standard asks for.
// It uses error-correction level M, which scans reliably off a screen.
//
// The image holds the secret, like the URI: serve it with
// `Cache-Control: no-store` to the enrolling user only.
func QRCode(uri string) ([]byte, error) {
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return nil, err
	}
	// Drawn here from the module grid and encoded by the standard library:
	// rsc.io/qr v0.2.0's Code.Image ignores Scale and the quiet zone.
	const quiet = 4 // modules of white border, as the standard requires
	side := (c.Size + 2*quiet) * QRScale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			v := uint8(0xff)
			if c.Black(x/QRScale-quiet, y/QRScale-quiet) {
				v = 0
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
