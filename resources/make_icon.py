"""Draws the app icon (resources/zoetrope.png): a zoetrope drum — a ring of viewing slits
around a puppet caught mid-stride. ``python resources/make_icon.py`` rewrites it."""

import math
from pathlib import Path

from PIL import Image, ImageDraw

SIZE, SS = 256, 4


def main() -> None:
    s = SIZE * SS
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle(
        (8 * SS, 8 * SS, s - 8 * SS, s - 8 * SS), radius=48 * SS, fill=(47, 74, 102)
    )
    c, r_out, r_in = s / 2, 104 * SS, 78 * SS
    d.ellipse((c - r_out, c - r_out, c + r_out, c + r_out), fill=(230, 180, 70))
    d.ellipse((c - r_in, c - r_in, c + r_in, c + r_in), fill=(32, 36, 44))
    for k in range(12):  # the slits
        a = 2 * math.pi * k / 12
        w = 0.09
        pts = [
            (c + r * math.cos(a + sgn * w), c + r * math.sin(a + sgn * w))
            for r, sgn in (
                (r_in + 6 * SS, -1),
                (r_out - 8 * SS, -1),
                (r_out - 8 * SS, 1),
                (r_in + 6 * SS, 1),
            )
        ]
        d.polygon(pts, fill=(32, 36, 44))
    # the puppet: head, body, a swinging arm and two legs mid-stride
    ink, lw = (245, 240, 230), 9 * SS
    d.ellipse((c - 14 * SS, c - 62 * SS, c + 14 * SS, c - 34 * SS), fill=ink)
    hip, neck = (c, c + 12 * SS), (c, c - 30 * SS)
    d.line([neck, hip], fill=ink, width=lw)
    d.line([(c, c - 20 * SS), (c + 28 * SS, c - 2 * SS)], fill=ink, width=lw)
    d.line([(c, c - 20 * SS), (c - 24 * SS, c + 2 * SS)], fill=ink, width=lw)
    d.line([hip, (c + 24 * SS, c + 54 * SS)], fill=ink, width=lw)
    d.line([hip, (c - 20 * SS, c + 56 * SS)], fill=ink, width=lw)
    out = Path(__file__).with_name("zoetrope.png")
    im.resize((SIZE, SIZE), Image.LANCZOS).save(out)
    print(out)


if __name__ == "__main__":
    main()
