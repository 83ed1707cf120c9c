"""Decoded PIL images → the float32 NCHW batch the poster image model reads.

Input size: the **whole poster**, fitted to a fixed 2:3 input of 144×216 (width × height), not the ImageNet
recipe (short side 256, centre crop 224), which cuts off a poster's top and bottom (titles, faces) and is
slower. EfficientNet-Lite0 is fully convolutional with global average pooling, so any input size gives the
same 1280-d feature. Raw network throughput, onnxruntime float32, batch 32, 2 shared cores (images/s; two
runs on different days' load: run 1 best of 3, run 2 median of 9, interleaved; torch: run 1):

    ================================  =========  =========  ======
    input (w×h)                       onnx run1  onnx run2  torch
    ================================  =========  =========  ======
    224×224 (short side 256 + crop)   110–134    153        14
    160×240 (whole poster)            194–199    206        35
    144×216 (whole poster)  ←         267–279    257        28
    128×192 (whole poster)            301–313    304        53
    192×288 (whole poster)            100–107    —          11
    ================================  =========  =========  ======

160×240 is only 1.35–1.8× the 224 crop depending on the load; 144×216 is 1.7–2.4× in both runs (the rule:
prefer the whole poster at a smaller size when it is ≥ 1.5× faster) and keeps the whole poster; 128×192 is
faster still but halves a w185 poster's pixels (185×278 → 128×192), well under the scale the network was
trained at. End to end (PIL → vectors, preprocessing ~800 images/s included) the demo catalog's 7,000–15,000
posters take about 40–80 s on 2 quiet cores. ``fit`` = crop the image centrally to 2:3 (nothing for a TMDb
poster: 185×278 loses one row), then one bicubic resize.

Pixels are scaled as the EfficientNet-Lite checkpoints expect: ``(x − 127) / 128`` on 0–255 RGB (tensorflow/tpu's
Lite recipe, ``MEAN_RGB = [127]*3``, ``STDDEV_RGB = [128]*3``), not ImageNet's mean/std. On a daisy photo the
packaged classifier says daisy at 0.36 with it, and something else (daisy second, 0.125) with ImageNet's.
Any PIL mode is accepted: transparency is composited onto white, 16- and 32-bit grey is scaled to 8 bits,
everything else is converted to RGB.

`RECIPE` (and `TAG`) name all this; they go into every image ``model_id`` and ONNX export key, so a change here
never mixes vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

INPUT_WIDTH = 144
INPUT_HEIGHT = 216
MEAN = 127.0
STD = 128.0
RECIPE: dict[str, Any] = {
    "version": 1,
    "input": [INPUT_WIDTH, INPUT_HEIGHT],
    "fit": "centre crop to the input's aspect (2:3), then resize, bicubic",
    "scale": "(rgb - 127) / 128 on 0..255",
    "modes": "alpha composited onto white; I;16/I/F scaled to 8 bits; others converted to RGB",
    "layout": "NCHW float32",
}
TAG = f"fit{INPUT_WIDTH}x{INPUT_HEIGHT}.v{RECIPE['version']}"
WHITE = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB: transparency composited onto white, high-bit-depth grey scaled down."""
    from PIL import Image

    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info) or (
        mode in ("L", "RGB") and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if values.size and values.max() > 255:  # 16-bit samples
            values = values / 257.0
        grey = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
        return grey.convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError:  # modes Pillow cannot take to RGB directly (e.g. LAB): through grey
        return image.convert("L").convert("RGB")


def fit(image: Image.Image, width: int = INPUT_WIDTH, height: int = INPUT_HEIGHT) -> Image.Image:
    """``image`` (RGB) cropped centrally to ``width:height`` and resized to exactly that, bicubic."""
    from PIL import Image, ImageOps

    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), method=Image.Resampling.BICUBIC)


def prepare(images: Sequence[Image.Image], width: int = INPUT_WIDTH, height: int = INPUT_HEIGHT) -> np.ndarray:
    """A float32 ``(n, 3, height, width)`` batch of ``images`` (any PIL mode), scaled as the model expects."""
    batch = np.empty((len(images), height, width, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        batch[i] = np.asarray(fit(to_rgb(image), width, height), dtype=np.uint8)
    out = batch.transpose(0, 3, 1, 2).astype(np.float32)
    out -= MEAN
    out /= STD
    return out


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` (n, d) as a float32 copy with unit-norm rows (zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True, ndmin=2)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, np.where(norms > 0, norms, 1.0), out=out)
    return out
