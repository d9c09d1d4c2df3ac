"""The picture of a simulated image: a drawing of its layout (PIL).

Each object instance is a box filled with the colour of its colour attribute
(light grey when it has none; a second colour is a band across its lower part),
with its class name (and other attributes, smaller) written on a tab in its top
left corner. Larger objects are drawn first so smaller ones stay visible; the
names are written after all boxes, so none is hidden. The background is a pale
tint fixed by the image id. These pictures stand in for the photographs: the
attention pictures (reproduce.attention) are drawn over them.
"""

from __future__ import annotations

import zlib
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# RGB of the colour attributes (the world's colour group; others fall back to grey).
COLOR_RGB = {
    "white": (245, 245, 245), "black": (30, 30, 30), "blue": (40, 90, 200),
    "green": (50, 150, 60), "red": (205, 40, 40), "brown": (125, 80, 40),
    "yellow": (240, 210, 40), "gray": (130, 130, 130), "grey": (130, 130, 130),
    "orange": (240, 140, 30), "pink": (240, 150, 190), "purple": (130, 60, 160),
    "silver": (190, 195, 205), "tan": (210, 180, 140), "gold": (212, 175, 55),
    "beige": (225, 210, 180), "dark": (60, 60, 70), "blond": (230, 200, 120),
    "blonde": (230, 200, 120),
}
NO_COLOR = (205, 205, 205)
BACKGROUND_TINTS = ((225, 235, 225), (230, 230, 240), (240, 235, 220), (225, 235, 240),
                    (238, 228, 228), (232, 232, 232))
_FONTS = {}


def _font(size: int):
  if size not in _FONTS:
    try:
      _FONTS[size] = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed bitmap size
      _FONTS[size] = ImageFont.load_default()
  return _FONTS[size]


def _text_color(rgb) -> tuple:
  luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
  return (0, 0, 0) if luminance > 120 else (255, 255, 255)


def draw_layout(width: int, height: int, object_boxes: np.ndarray,
                object_classes: Sequence[str], object_attributes: Sequence[Sequence[str]],
                color_names: Sequence[str], image_id: int = 0) -> np.ndarray:
  """Draws a layout: uint8 [height, width, 3] RGB.

  Args:
    object_boxes: [n, 4] boxes [x, y, w, h] of the object instances.
    object_classes: n class names.
    object_attributes: n lists of true attribute names.
    color_names: the attribute names that are colours (their group "color").
    image_id: fixes the background tint.
  """
  tint = BACKGROUND_TINTS[zlib.crc32(str(image_id).encode()) % len(BACKGROUND_TINTS)]
  image = Image.new("RGB", (int(width), int(height)), tint)
  draw = ImageDraw.Draw(image)
  colors = set(color_names)
  areas = [b[2] * b[3] for b in object_boxes]
  order = sorted(range(len(object_boxes)), key=lambda k: -areas[k])
  fills = []
  for i in range(len(object_boxes)):
    own = [a for a in object_attributes[i] if a in colors]
    fills.append((own, COLOR_RGB.get(own[0], NO_COLOR) if own else NO_COLOR))
  for i in order:
    x, y, w, h = (float(v) for v in object_boxes[i])
    own, fill = fills[i]
    draw.rectangle([x, y, x + w - 1, y + h - 1], fill=fill, outline=(20, 20, 20), width=2)
    if len(own) > 1:  # a second colour: a band across the lower part
      second = COLOR_RGB.get(own[1], NO_COLOR)
      draw.rectangle([x + 2, y + 0.7 * h, x + w - 3, y + h - 3], fill=second)
  # Names last, on a tab of the object's colour, so no object hides another's name.
  for i in order:
    x, y, w, h = (float(v) for v in object_boxes[i])
    own, fill = fills[i]
    ink = _text_color(fill)
    rest = [a for a in object_attributes[i] if a not in own[:1]]
    lines = [(object_classes[i], _font(13))]
    if rest and h > 34:
      lines.append((", ".join(rest), _font(10)))
    top = y + 3
    for text, font in lines:
      left, upper, right, lower = draw.textbbox((x + 4, top), text, font=font)
      draw.rectangle([left - 2, upper - 1, right + 2, lower + 1], fill=fill,
                     outline=(20, 20, 20))
      draw.text((x + 4, top), text, fill=ink, font=font)
      top = lower + 3
  return np.asarray(image)


def save_picture(array: np.ndarray, path: str, fast: bool = True) -> None:
  """Writes an RGB array as PNG (caller makes it atomic, e.g. in a temp dir)."""
  Image.fromarray(array).save(path, format="PNG", compress_level=1 if fast else 6)


def load_picture(path: str) -> Optional[np.ndarray]:
  """uint8 [H, W, 3] RGB of an image file (PNG or JPEG)."""
  with Image.open(path) as im:
    return np.asarray(im.convert("RGB"))
