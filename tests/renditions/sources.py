"""Source images for the rendition tests, made in memory with Pillow (and by hand where
Pillow cannot write the format: 16-bit RGB PNG, an ICC profile for Display P3)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image

#: Upright test picture: four quadrants of distinct colours.
QUADRANTS = {
    "top-left": (230, 30, 30),
    "top-right": (30, 200, 30),
    "bottom-left": (30, 30, 230),
    "bottom-right": (240, 220, 40),
}

#: The transposition that stores an upright picture so that orientation N shows it upright.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

MARKER = "ikstorage-secret-marker"


def save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def quadrants(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """The upright picture: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    width, height = size
    image = Image.new("RGB", size)
    half_w, half_h = width // 2, height // 2
    image.paste(QUADRANTS["top-left"], (0, 0, half_w, half_h))
    image.paste(QUADRANTS["top-right"], (half_w, 0, width, half_h))
    image.paste(QUADRANTS["bottom-left"], (0, half_h, half_w, height))
    image.paste(QUADRANTS["bottom-right"], (half_w, half_h, width, height))
    return image


def oriented_jpeg(orientation: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose stored pixels show :func:`quadrants` upright under ``orientation``."""
    upright = quadrants(size)
    method = STORE_FOR_ORIENTATION[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return save(stored, "JPEG", quality=95, exif=exif.tobytes())


def photo(size: tuple[int, int] = (640, 480), **options: Any) -> bytes:
    """A JPEG with gradients and grain, so it compresses like a photograph."""
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.effect_noise(size, 40),
        ),
    )
    return save(image, "JPEG", quality=90, **options)


def with_metadata(fmt: str = "JPEG") -> bytes:
    """A source with EXIF (camera, GPS position), XMP, an ICC profile and a comment."""
    from PIL import ImageCms

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ExampleCam"
    exif[ExifTags.Base.ImageDescription] = MARKER
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 7.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 51.2)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        f'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'dc:creator="{MARKER}"/></rdf:RDF></x:xmpmeta>'
    ).encode()
    image = quadrants((96, 72))
    options: dict[str, Any] = {"exif": exif.tobytes(), "icc_profile": srgb}
    if fmt == "JPEG":
        options.update(xmp=xmp, comment=MARKER, quality=95)
    if fmt == "WEBP":
        options.update(xmp=xmp)
    return save(image, fmt, **options)


def animated_gif(frames: int = 5, size: tuple[int, int] = (40, 30)) -> tuple[bytes, list[int]]:
    """An animated GIF whose frames are distinct flat colours; returns it and its durations."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    images = [Image.new("RGB", size, colours[i % len(colours)]) for i in range(frames)]
    durations = [100 + 20 * i for i in range(frames)]
    data = save(
        images[0], "GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
    )
    return data, durations


def png_16bit_rgb(width: int, height: int, rgb16: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG (colour type 2, depth 16), which Pillow cannot write."""
    row = b"\x00" + struct.pack(">HHH", *rgb16) * width
    return _png(struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0), row * height)


def _png(ihdr: bytes, raw: bytes, extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + extra
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG whose frame header (SOF0) claims ``width`` x ``height``."""
    data = bytearray(save(Image.new("RGB", (16, 16), (10, 20, 30)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


# -- a Display P3 ICC profile, built by hand (LittleCMS makes only sRGB, Lab and XYZ) ----


def display_p3_profile() -> bytes:
    """An ICC v2 matrix/TRC RGB profile with the Display P3 primaries and a 2.2 gamma."""
    # Colorants adapted to the D50 profile connection space (as in Apple's Display P3).
    red, green, blue = (0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841)
    d50 = (0.9642, 1.0, 0.8249)
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", _desc("Display P3 (test)")),
        (b"cprt", b"text" + b"\0" * 4 + b"No copyright\0"),
        (b"wtpt", _xyz(d50)),
        (b"rXYZ", _xyz(red)),
        (b"gXYZ", _xyz(green)),
        (b"bXYZ", _xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, bodies = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        padded = body + b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(bodies), len(body))
        bodies += padded
    size = 128 + table_size + len(bodies)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
    header += struct.pack(">I", 0) + _s15(d50[0]) + _s15(d50[1]) + _s15(d50[2])
    header += b"\0" * (128 - len(header))
    return header + table + bodies


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc"
        + b"\0" * 4
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\0" * 67
    )


def apng_with_a_broken_frame() -> bytes:
    """A 3-frame APNG whose second frame's sequence number is wrong (CRC kept valid)."""
    frames = [Image.new("RGB", (40, 30), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = bytearray(save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100))
    at = data.index(b"fdAT")
    (length,) = struct.unpack(">I", data[at - 4 : at])
    struct.pack_into(">I", data, at + 4, 99)
    struct.pack_into(">I", data, at + 4 + length, zlib.crc32(bytes(data[at : at + 4 + length])))
    return bytes(data)
