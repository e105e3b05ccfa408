"""What an encoded image's bytes say before anything decodes them.

The loaders ask three questions of a file's bytes, so that a bad file is
named before a decoder fails deep inside (or silently returns half an
image), and a huge one is refused before gigabytes are decoded:

* is it complete? A JPEG is walked marker by marker, through its
  entropy-coded scans, to its end-of-image marker; a PNG chunk by chunk to
  its ``IEND`` chunk. Bytes *after* the end (a camera's trailer, padding)
  are allowed, as every decoder allows them.
* how large is it? Width and height from the PNG ``IHDR`` chunk or the JPEG
  start-of-frame segment; other formats through Pillow's ``Image.open``,
  which reads the header only.
* which EXIF orientation does a JPEG (APP1 segment) or PNG (``eXIf``
  chunk) carry (1 to 8, 1 = as stored)?

Pure functions of ``bytes`` (no OpenMMLab imports). Where the structure is
not what the format says (not a JPEG or PNG, or a malformed header), the
answer is "unknown" rather than a guess, and the decoder decides.
"""
import io
import re
import struct
import warnings
from typing import NamedTuple, Optional

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
JPEG_SIGNATURE = b'\xff\xd8'
# Start-of-frame markers (baseline, extended, progressive, lossless,
# arithmetic); 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM, RST0-7, SOI, EOI.
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xDA)])
# The end of an entropy-coded scan: 0xFF followed by a marker byte, i.e. not
# by 0x00 (a stuffed 0xFF), RST0-7 (inside the scan) or 0xFF (fill).
_JPEG_SCAN_END = re.compile(rb'\xff[^\x00\xd0-\xd7\xff]')
_EXIF_ORIENTATION_TAG = 0x0112


class ImageHeader(NamedTuple):
    """What the bytes say; ``None`` where they do not say.

    ``problem`` is set when the file is certainly unusable (empty or
    truncated); width and height are in stored pixels (before any EXIF
    rotation).
    """
    format: Optional[str] = None  # 'jpeg', 'png' or Pillow's format name
    width: Optional[int] = None
    height: Optional[int] = None
    exif_orientation: int = 1
    problem: Optional[str] = None


def read_header(data: bytes) -> ImageHeader:
    """The header facts of an encoded image (see the module docstring)."""
    if len(data) == 0:
        return ImageHeader(problem='empty file (0 bytes)')
    if data.startswith(JPEG_SIGNATURE):
        return _jpeg_header(data)
    if data.startswith(PNG_SIGNATURE):
        return _png_header(data)
    return _pillow_header(data)


def _png_header(data: bytes) -> ImageHeader:
    width = height = None
    orientation = 1
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(data):
            break
        if kind == b'IHDR' and length >= 8:
            width, height = struct.unpack('>II', data[pos + 8:pos + 16])
        elif kind == b'eXIf':
            orientation = exif_orientation(
                data[pos + 8:pos + 8 + length]) or orientation
        elif kind == b'IEND':
            return ImageHeader('png', width, height, orientation)
        pos = end
    return ImageHeader('png', width, height, orientation,
                       problem='truncated PNG (no IEND chunk)')


def _jpeg_header(data: bytes) -> ImageHeader:
    width = height = None
    orientation = 1
    truncated = ImageHeader('jpeg', width, height, orientation,
                            'truncated JPEG (no end-of-image marker)')
    pos = len(JPEG_SIGNATURE)
    while True:
        while data[pos:pos + 2] == b'\xff\xff':  # fill bytes
            pos += 1
        if pos + 2 > len(data):
            return truncated._replace(width=width, height=height,
                                      exif_orientation=orientation)
        if data[pos] != 0xFF:  # not a marker: malformed, let decoders judge
            return ImageHeader('jpeg', width, height, orientation)
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            return ImageHeader('jpeg', width, height, orientation)
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if pos + 4 > len(data):
            return truncated._replace(width=width, height=height,
                                      exif_orientation=orientation)
        length = struct.unpack('>H', data[pos + 2:pos + 4])[0]
        segment = data[pos + 4:pos + 2 + length]
        if pos + 2 + length > len(data):
            return truncated._replace(width=width, height=height,
                                      exif_orientation=orientation)
        if marker in _JPEG_SOF and len(segment) >= 5 and width is None:
            height, width = struct.unpack('>HH', segment[1:5])
        elif marker == 0xE1 and segment.startswith(b'Exif\x00\x00'):
            orientation = exif_orientation(segment[6:]) or orientation
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip its entropy-coded data
            end = _JPEG_SCAN_END.search(data, pos)
            if end is None:
                return truncated._replace(width=width, height=height,
                                          exif_orientation=orientation)
            pos = end.start()


def exif_orientation(tiff: bytes) -> Optional[int]:
    """The Orientation tag (1-8) of IFD0 of an EXIF (TIFF) block, or None."""
    if len(tiff) < 8 or tiff[:2] not in (b'II', b'MM'):
        return None
    order = '<' if tiff[:2] == b'II' else '>'
    ifd = struct.unpack(order + 'I', tiff[4:8])[0]
    if ifd + 2 > len(tiff):
        return None
    count = struct.unpack(order + 'H', tiff[ifd:ifd + 2])[0]
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            return None
        tag, kind = struct.unpack(order + 'HH', tiff[entry:entry + 4])
        if tag == _EXIF_ORIENTATION_TAG and kind == 3:  # SHORT
            value = struct.unpack(order + 'H', tiff[entry + 8:entry + 10])[0]
            return value if 1 <= value <= 8 else None
    return None


def _pillow_header(data: bytes) -> ImageHeader:
    """Other formats (BMP, TIFF, WebP, ...): Pillow reads the header only.

    Pillow refuses images over twice its ``MAX_IMAGE_PIXELS`` already at
    this point; that is reported as the problem. Anything Pillow cannot
    open is left to the decoder.
    """
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                return ImageHeader(str(img.format).lower(), width, height)
    except Image.DecompressionBombError as e:
        return ImageHeader(problem=f'refused by Pillow before decoding: {e}')
    except Exception:  # noqa: BLE001 - not an image Pillow knows
        return ImageHeader()
