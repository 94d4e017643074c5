package uitest_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"sort"
)

// writePNG writes a screenshot reduced to a palette of 256 colours: the
// pages are flat colours and text, so this keeps them sharp at about a
// third of the size, small enough to commit.
func writePNG(path string, data []byte) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	out := quantize(img)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// quantize picks the 256 most used colours (counted in 5-bit buckets, each
// bucket's average) and maps every pixel to the nearest of them.
func quantize(src image.Image) *image.Paletted {
	b := src.Bounds()
	rgba := image.NewRGBA(b)
	draw.Draw(rgba, b, src, b.Min, draw.Src)
	type acc struct{ n, r, g, b int }
	buckets := map[int]*acc{}
	for i := 0; i+3 < len(rgba.Pix); i += 4 {
		r, g, bl := int(rgba.Pix[i]), int(rgba.Pix[i+1]), int(rgba.Pix[i+2])
		k := (r>>3)<<10 | (g>>3)<<5 | bl>>3
		a := buckets[k]
		if a == nil {
			a = &acc{}
			buckets[k] = a
		}
		a.n++
		a.r += r
		a.g += g
		a.b += bl
	}
	list := make([]*acc, 0, len(buckets))
	for _, a := range buckets {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n })
	if len(list) > 256 {
		list = list[:256]
	}
	pal := make(color.Palette, len(list))
	for i, a := range list {
		pal[i] = color.RGBA{uint8(a.r / a.n), uint8(a.g / a.n), uint8(a.b / a.n), 255}
	}
	out := image.NewPaletted(b, pal)
	cache := map[uint32]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := rgba.PixOffset(x, y)
			c := uint32(rgba.Pix[i])<<16 | uint32(rgba.Pix[i+1])<<8 | uint32(rgba.Pix[i+2])
			idx, ok := cache[c]
			if !ok {
				idx = uint8(pal.Index(color.RGBA{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], 255}))
				cache[c] = idx
			}
			out.Pix[out.PixOffset(x, y)] = idx
		}
	}
	return out
}
