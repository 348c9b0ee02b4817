//go:build ignore

// genimages draws the example book's images; run it from this folder with
// "go run genimages.go". The output is committed; this file documents how it
// was made (and that the images are original, CC0 like the text).
package main

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
)

func main() {
	must(save("assets/images/cover.jpg", upscale(cover(), 1067, 1600), true))
	must(save("assets/images/chart.png", chart(), false))
	must(save("assets/images/lamp.png", lamp(), false))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func save(name string, img image.Image, jpg bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if jpg {
		return jpeg.Encode(f, img, &jpeg.Options{Quality: 80})
	}
	return png.Encode(f, img)
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if image.Pt(x, y).In(img.Rect) {
				img.SetRGBA(x, y, c)
			}
		}
	}
}

// upscale resizes img to w×h, bilinear: the cover is drawn at 600×900 and
// saved at 1067×1600, the long side stores ask for.
func upscale(img image.Image, w, h int) image.Image {
	src := img.(*image.RGBA)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*float64(sh)/float64(h) - 0.5
		y0 := max(0, min(sh-1, int(math.Floor(fy))))
		y1, ty := min(sh-1, y0+1), fy-math.Floor(fy)
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*float64(sw)/float64(w) - 0.5
			x0 := max(0, min(sw-1, int(math.Floor(fx))))
			x1, tx := min(sw-1, x0+1), fx-math.Floor(fx)
			a, b, c, d := src.RGBAAt(x0, y0), src.RGBAAt(x1, y0), src.RGBAAt(x0, y1), src.RGBAAt(x1, y1)
			mix := func(p, q, r, s uint8) uint8 {
				top := float64(p)*(1-tx) + float64(q)*tx
				bot := float64(r)*(1-tx) + float64(s)*tx
				return uint8(math.Round(top*(1-ty) + bot*ty))
			}
			out.SetRGBA(x, y, color.RGBA{mix(a.R, b.R, c.R, d.R), mix(a.G, b.G, c.G, d.G), mix(a.B, b.B, c.B, d.B), 255})
		}
	}
	return out
}

// cover: a night sky, a sea, a tower and a beam, drawn at 600×900.
func cover() image.Image {
	const w, h = 600, 900
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		t := float64(y) / h
		sky := color.RGBA{uint8(10 + 30*t), uint8(20 + 40*t), uint8(50 + 70*t), 255}
		if y > 620 {
			sky = color.RGBA{uint8(10 + 10*t), uint8(40 + 20*t), uint8(70 + 20*t), 255}
		}
		fill(img, 0, y, w, y+1, sky)
	}
	// beam
	for y := 150; y < 420; y++ {
		for x := 300; x < w; x++ {
			dy := float64(y-220) - 0.25*float64(x-300)
			if math.Abs(dy) < 10+0.15*float64(x-300) {
				c := img.RGBAAt(x, y)
				img.SetRGBA(x, y, color.RGBA{uint8(min(255, int(c.R)+90)), uint8(min(255, int(c.G)+80)), uint8(min(255, int(c.B)+30)), 255})
			}
		}
	}
	// rock and tower
	fill(img, 180, 600, 420, 660, color.RGBA{40, 40, 45, 255})
	for y := 240; y < 600; y++ {
		half := 30 + (y-240)/10
		stripe := color.RGBA{235, 235, 230, 255}
		if (y/60)%2 == 1 {
			stripe = color.RGBA{190, 30, 40, 255}
		}
		fill(img, 300-half, y, 300+half, y+1, stripe)
	}
	fill(img, 270, 200, 330, 240, color.RGBA{255, 220, 120, 255})
	fill(img, 262, 190, 338, 200, color.RGBA{30, 30, 30, 255})
	// stars
	for i := 0; i < 60; i++ {
		x, y := (i*97)%w, (i*53)%300
		fill(img, x, y, x+2, y+2, color.RGBA{240, 240, 255, 255})
	}
	return img
}

// chart: a sea chart with the reef and the light, 480×320, few colours.
func chart() image.Image {
	const w, h = 480, 320
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, 0, 0, w, h, color.RGBA{200, 225, 240, 255})
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if math.Hypot(float64(x-150), float64(y-170)) < 50 {
				img.SetRGBA(x, y, color.RGBA{170, 150, 110, 255}) // the Skerry
			}
			if d := float64(y-200) - 0.4*float64(x-200); math.Abs(d) < 6 && x > 200 && x < 420 {
				img.SetRGBA(x, y, color.RGBA{90, 80, 70, 255}) // the reef
			}
		}
	}
	fill(img, 145, 160, 156, 181, color.RGBA{200, 20, 30, 255})
	for x := 0; x < w; x += 40 {
		fill(img, x, 0, x+1, h, color.RGBA{150, 180, 200, 255})
	}
	for y := 0; y < h; y += 40 {
		fill(img, 0, y, w, y+1, color.RGBA{150, 180, 200, 255})
	}
	return img
}

// lamp: the lens seen from the side, 240×240.
func lamp() image.Image {
	const s = 240
	img := image.NewRGBA(image.Rect(0, 0, s, s))
	fill(img, 0, 0, s, s, color.RGBA{250, 248, 240, 255})
	for i := 0; i < 7; i++ {
		y := 50 + i*20
		half := 60 - int(math.Abs(float64(i-3)))*10
		fill(img, 120-half, y, 120+half, y+12, color.RGBA{120, 160, 170, 255})
	}
	fill(img, 110, 105, 130, 135, color.RGBA{250, 190, 60, 255})
	fill(img, 80, 200, 160, 215, color.RGBA{60, 60, 60, 255})
	return img
}
