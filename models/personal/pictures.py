"""Pictures users upload with feedback: checked by content, re-encoded without metadata.

Only PNG, JPEG and WebP are accepted, judged by decoding the bytes (never by file name or
declared type). The stored file is a fresh encoding of the pixels, so EXIF (GPS position,
device serial), XMP, ICC and text chunks never reach storage. Orientation from EXIF is
applied to the pixels first so the picture still shows the right way up.
"""

from __future__ import annotations

import asyncio
import io
import struct
import uuid
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError
from tortoise import fields
from tortoise.models import Model

from accord.settings import Settings
from models.accounts.account import Account
from models.errors import DomainError
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedManager
from models.keys.sealed_files import FileEncryption, OpenedFile, open_stored, put_sealed
from models.personal.errors import PersonalDataErrorCode
from models.personal.storage import Storage

if TYPE_CHECKING:  # feedback imports this module
    from models.personal.feedback import Feedback

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
#: What Pillow calls formats that are one of ours: a JPEG with a multi-picture index (MPF,
#: as phone cameras write for depth maps or previews) is still a JPEG; its first picture is
#: the photo.
ALIASES = {"MPO": "JPEG"}


class Picture(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    owner: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="pictures", on_delete=fields.CASCADE, db_index=True
    )
    owner_id: int  # set by the ORM
    feedback: fields.ForeignKeyNullableRelation[Feedback] = fields.ForeignKeyField(
        "models.Feedback",
        null=True,
        related_name="pictures",
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    feedback_id: int | None  # set by the ORM
    storage_key = fields.CharField(max_length=200, unique=True)
    content_type = fields.CharField(max_length=32)
    width = fields.IntField()
    height = fields.IntField()
    size = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    #: How the file is sealed (``models.keys.sealed_files``): pictures stored before files
    #: were encrypted are NONE (the migration's default for existing rows).
    encryption = fields.CharEnumField(
        FileEncryption,
        max_length=24,
        default=FileEncryption.TINK_STREAMING_V1,
        db_default=FileEncryption.NONE,
    )

    class Meta:
        manager = SealedManager()
        table = "picture"


#: EXIF orientation -> the transposition that shows the picture the right way up.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation, or 1 (as stored) when the EXIF block is missing or broken.

    Broken EXIF must not refuse a picture whose pixels decode: the metadata is discarded
    anyway. Pillow reports a broken block in many ways (SyntaxError, struct.error,
    TypeError...), hence the broad except around reading this one tag.
    """
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # see above
        return 1
    return value if isinstance(value, int) else 1


def _clean(data: bytes, max_pixels: int) -> tuple[bytes, str, int, int]:
    Image.MAX_IMAGE_PIXELS = None  # we check the count ourselves, with our own limit
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = ALIASES.get(probe.format or "", probe.format)
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error):
        raise DomainError(
            PersonalDataErrorCode.UNSUPPORTED_TYPE, "file", "not a PNG, JPEG or WebP image"
        ) from None
    if kind not in FORMATS:
        raise DomainError(
            PersonalDataErrorCode.UNSUPPORTED_TYPE, "file", "only PNG, JPEG and WebP are accepted"
        )
    if width * height > max_pixels:
        raise DomainError(PersonalDataErrorCode.TOO_LARGE, "file", f"at most {max_pixels} pixels")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            method = _UPRIGHT.get(_orientation(image))
            upright = image.transpose(method) if method is not None else image
            if upright.mode == "P":
                upright = upright.convert("RGBA")
            # A new image from the bare pixels: nothing of the original's metadata survives.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if kind == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            out = io.BytesIO()
            options = {"quality": 90} if kind in ("JPEG", "WEBP") else {}
            clean.save(out, format=kind, **options)
    except (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "file", "the image could not be decoded"
        ) from None
    return out.getvalue(), FORMATS[kind], clean.width, clean.height


async def store_picture(
    owner: Account,
    data: bytes,
    storage: Storage,
    settings: Settings,
    *,
    max_bytes: int,
    max_pixels: int,
) -> Picture:
    if len(data) > max_bytes:
        raise DomainError(PersonalDataErrorCode.TOO_LARGE, "file", f"at most {max_bytes} bytes")
    if not data:
        raise DomainError(PersonalDataErrorCode.REQUIRED, "file", "the file is empty")
    clean, content_type, width, height = await asyncio.to_thread(_clean, data, max_pixels)
    picture_id = uuid.uuid4()
    key = f"pictures/{picture_id.hex[:2]}/{picture_id.hex}"
    await put_sealed(settings, storage, account_subject(owner.id), key, clean)
    return await Picture.create(
        id=picture_id,
        owner=owner,
        storage_key=key,
        content_type=content_type,
        width=width,
        height=height,
        size=len(clean),
        encryption=FileEncryption.TINK_STREAMING_V1,
    )


async def open_picture(picture: Picture, settings: Settings, storage: Storage) -> OpenedFile | None:
    """The picture's bytes as a stream (None when its file is missing). Raises
    FileUnreadable (altered) or KeyDestroyed (its owner was deleted)."""
    return await open_stored(
        settings,
        storage,
        account_subject(picture.owner_id),
        picture.storage_key,
        FileEncryption(picture.encryption),
    )


async def delete_picture(picture: Picture, storage: Storage) -> None:
    """File first, then row: a crash in between leaves the row, so a retry finds the
    picture again and finishes (deleting a missing file is not an error). The other order
    could leave a file no row points to, which nothing would ever delete."""
    await storage.delete(picture.storage_key)
    await Picture.filter(id=picture.id).delete()
