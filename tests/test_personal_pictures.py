"""Pictures through the GraphQL multipart request spec: accepted formats judged by content,
size and pixel limits, metadata stripped before storage, and who may read them back."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from models.personal.pictures import Picture, open_picture
from models.personal.storage import LocalStorage
from tests.ids import key, pk
from tests.personal_helpers import (
    codes,
    file_path,
    gps_exif,
    image_bytes,
    register,
    submitted,
    upload,
    uploaded,
)

ACCEPTED = [
    ("PNG", "image/png", "x.png"),
    ("JPEG", "image/jpeg", "x.jpg"),
    ("WEBP", "image/webp", "x.webp"),
]


def stored_path(settings, row: Picture):
    return settings.data_dir / "files" / row.storage_key


async def stored_plain(settings, row: Picture) -> bytes:
    """The stored file, decrypted with its owner's key (what is on disk is sealed)."""
    opened = await open_picture(row, settings, LocalStorage(settings.data_dir / "files"))
    assert opened is not None
    try:
        return opened.read()
    finally:
        opened.close()


@pytest.mark.parametrize(("fmt", "content_type", "name"), ACCEPTED)
async def test_png_jpeg_and_webp_are_accepted(gql, client, settings, fmt, content_type, name):
    alice = await register(gql, "alice")
    picture = await uploaded(
        client, alice.token, image_bytes(fmt, (64, 40)), filename=name, content_type=content_type
    )
    assert (picture["width"], picture["height"]) == (64, 40)
    assert picture["url"].startswith(f"{file_path(picture)}?expires=")
    row = await Picture.get(id=key(picture["id"]))
    assert row.owner_id == pk(alice.id)
    assert row.content_type == content_type
    assert row.feedback_id is None
    data = await stored_plain(settings, row)
    assert row.size == len(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == fmt
        assert image.size == (64, 40)

    served = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {alice.token}"}
    )
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in served.headers["cache-control"]
    assert served.content == data


async def test_the_type_is_judged_by_content_not_by_name(gql, client):
    alice = await register(gql, "alice")
    # A PNG sent as "photo.gif" with a GIF content type is still a PNG.
    picture = await uploaded(
        client, alice.token, image_bytes("PNG"), filename="photo.gif", content_type="image/gif"
    )
    assert (await Picture.get(id=key(picture["id"]))).content_type == "image/png"


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"just some text, not a picture\n" * 10, "x.png", "image/png"),
        (image_bytes("GIF"), "x.gif", "image/gif"),
        (image_bytes("GIF"), "x.png", "image/png"),
        (image_bytes("BMP"), "x.jpg", "image/jpeg"),
        (image_bytes("TIFF"), "x.webp", "image/webp"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "image/svg+xml"),
    ],
)
async def test_other_content_is_an_unsupported_type(gql, client, data, name, content_type):
    alice = await register(gql, "alice")
    result = await upload(client, data, token=alice.token, filename=name, content_type=content_type)
    assert codes(result) == [("UNSUPPORTED_TYPE", "file")]
    assert result["picture"] is None
    assert await Picture.all().count() == 0


async def test_a_truncated_png_is_refused(gql, client):
    alice = await register(gql, "alice")
    data = image_bytes("PNG", (200, 200))
    result = await upload(client, data[: len(data) // 2], token=alice.token, filename="x.png")
    assert result["picture"] is None
    assert codes(result) == [("INVALID", "file")]
    assert await Picture.all().count() == 0


async def test_an_empty_file_is_required(gql, client):
    alice = await register(gql, "alice")
    result = await upload(client, b"", token=alice.token)
    assert codes(result) == [("REQUIRED", "file")]


async def test_upload_needs_a_sign_in(gql, client):
    result = await upload(client, image_bytes("PNG"), token=None)
    assert codes(result) == [("NOT_AUTHENTICATED", None)]
    assert await Picture.all().count() == 0


async def test_too_many_bytes_is_too_large(gql, app_with):
    limit = 4096
    data = image_bytes("PNG", (64, 64), mode="RGB", compress_level=0)
    assert limit < len(data) < limit + 65_536
    async with app_with(picture_max_bytes=limit) as other:
        alice = await register(gql, "alice")
        result = await upload(other, data, token=alice.token, filename="x.png")
        assert codes(result) == [("TOO_LARGE", "file")]
        small = await upload(other, image_bytes("PNG", (8, 8)), token=alice.token)
        assert small["errors"] == []
    assert await Picture.all().count() == 1


async def test_too_many_pixels_is_too_large_by_default(gql, client):
    alice = await register(gql, "alice")
    # 30 megapixels of one colour: a small file, far beyond the default 25 million pixels.
    data = image_bytes("PNG", (6000, 5000), mode="1")
    assert len(data) < 1_000_000
    result = await upload(client, data, token=alice.token, filename="x.png")
    assert codes(result) == [("TOO_LARGE", "file")]
    assert await Picture.all().count() == 0


async def test_the_pixel_limit_is_configurable(gql, app_with):
    async with app_with(picture_max_pixels=10_000) as other:
        alice = await register(gql, "alice")
        too_big = await upload(other, image_bytes("JPEG", (101, 100)), token=alice.token)
        assert codes(too_big) == [("TOO_LARGE", "file")]
        fits = await upload(other, image_bytes("JPEG", (100, 100)), token=alice.token)
        assert fits["errors"] == []


def _has_no_metadata(data: bytes) -> None:
    assert b"Exif" not in data
    assert b"SpyCam" not in data and b"SERIAL-123456" not in data
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert len(exif) == 0
        assert len(exif.get_ifd(0x8825)) == 0
        assert "exif" not in image.info and "icc_profile" not in image.info


async def test_a_jpeg_with_gps_exif_is_stored_and_served_without_any_exif(gql, client, settings):
    alice = await register(gql, "alice")
    source = io.BytesIO()
    Image.new("RGB", (80, 60), "blue").save(source, format="JPEG", exif=gps_exif().tobytes())
    original = source.getvalue()
    with Image.open(io.BytesIO(original)) as check:  # the test's own premise
        assert check.getexif().get_ifd(0x8825)[2] == (48.0, 51.0, 30.0)
        assert check.getexif()[0x010F] == "SpyCam Inc."
    assert b"Exif" in original and b"SERIAL-123456" in original

    picture = await uploaded(client, alice.token, original, filename="IMG_0001.JPG")
    row = await Picture.get(id=key(picture["id"]))
    stored = await stored_plain(settings, row)
    _has_no_metadata(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (80, 60)

    served = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {alice.token}"}
    )
    assert served.status_code == 200
    _has_no_metadata(served.content)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_png_and_webp_lose_their_exif_too(gql, client, settings, fmt):
    alice = await register(gql, "alice")
    source = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(source, format=fmt, exif=gps_exif().tobytes())
    with Image.open(io.BytesIO(source.getvalue())) as check:
        assert len(check.getexif()) > 0
    picture = await uploaded(client, alice.token, source.getvalue(), filename=f"x.{fmt}")
    _has_no_metadata(await stored_plain(settings, await Picture.get(id=key(picture["id"]))))


async def test_the_exif_orientation_is_applied_to_the_pixels(gql, client):
    alice = await register(gql, "alice")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    source = io.BytesIO()
    Image.new("RGB", (80, 30), "red").save(source, format="JPEG", exif=exif.tobytes())
    picture = await uploaded(client, alice.token, source.getvalue())
    assert (picture["width"], picture["height"]) == (30, 80)


async def test_a_camera_jpeg_with_a_multi_picture_index_is_a_jpeg(gql, client, settings):
    """Phones write JPEGs with an MPF index (Pillow calls them MPO); they are JPEGs."""
    alice = await register(gql, "alice")
    source = io.BytesIO()
    first = Image.new("RGB", (40, 30), "red")
    first.save(
        source,
        format="MPO",
        save_all=True,
        append_images=[Image.new("RGB", (40, 30))],
        exif=gps_exif().tobytes(),
    )
    with Image.open(io.BytesIO(source.getvalue())) as check:
        assert check.format == "MPO"
    picture = await uploaded(client, alice.token, source.getvalue(), filename="IMG.JPG")
    row = await Picture.get(id=key(picture["id"]))
    assert row.content_type == "image/jpeg"
    stored = await stored_plain(settings, row)
    _has_no_metadata(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (40, 30)


# --- who may read a picture ------------------------------------------------------------------


async def test_only_the_owner_reads_an_unattached_picture(gql, client):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    picture = await uploaded(client, alice.token)
    owner = await client.get(file_path(picture), headers={"authorization": f"Bearer {alice.token}"})
    assert owner.status_code == 200
    assert (await client.get(file_path(picture))).status_code == 404
    stranger = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {bob.token}"}
    )
    assert stranger.status_code == 404
    forged = await client.get(file_path(picture), headers={"authorization": "Bearer forged"})
    assert forged.status_code == 404


async def test_a_picture_on_public_feedback_is_readable_by_anyone(gql, client):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    picture = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PUBLIC", pictureIds=[picture["id"]])
    anonymous = await client.get(file_path(picture))
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"] == "image/png"
    assert "public" in anonymous.headers["cache-control"]
    signed_in = await client.get(
        file_path(picture), headers={"authorization": f"Bearer {bob.token}"}
    )
    assert signed_in.status_code == 200
    assert signed_in.content == anonymous.content


async def test_a_picture_on_private_feedback_is_the_owners_only(gql, client):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    picture = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PRIVATE", pictureIds=[picture["id"]])
    assert (await client.get(file_path(picture))).status_code == 404
    bobs = await client.get(file_path(picture), headers={"authorization": f"Bearer {bob.token}"})
    assert bobs.status_code == 404
    owner = await client.get(file_path(picture), headers={"authorization": f"Bearer {alice.token}"})
    assert owner.status_code == 200


@pytest.mark.parametrize(
    "path", ["/pictures/nope", "/pictures/00000000-0000-0000-0000-000000000000"]
)
async def test_unknown_pictures_are_not_found(client, path):
    assert (await client.get(path)).status_code == 404


async def test_someone_elses_picture_cannot_be_attached(gql, client):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    picture = await uploaded(client, alice.token)
    from tests.personal_helpers import submit

    result = await submit(gql, bob.token, visibility="PUBLIC", pictureIds=[picture["id"]])
    assert codes(result) == [("NOT_FOUND", "pictureIds")]
    assert result["feedback"] is None
    assert (await Picture.get(id=key(picture["id"]))).feedback_id is None
    assert (await client.get(file_path(picture))).status_code == 404


async def test_viewer_feedback_shows_picture_urls(gql, client):
    alice = await register(gql, "alice")
    pictures = [await uploaded(client, alice.token) for _ in range(2)]
    await submitted(gql, alice.token, pictureIds=[p["id"] for p in pictures])
    body = await gql(
        "{ viewer { feedback { edges { node { pictures { url } } } } } }", token=alice.token
    )
    edges = body["data"]["viewer"]["feedback"]["edges"]
    assert sorted(p["url"].partition("?")[0] for p in edges[0]["node"]["pictures"]) == sorted(
        file_path(p) for p in pictures
    )
    for url in (p["url"] for p in edges[0]["node"]["pictures"]):
        served = await client.get(url, headers={"authorization": f"Bearer {alice.token}"})
        assert served.status_code == 200


def _with_metadata(fmt: str) -> bytes:
    from PIL import PngImagePlugin

    image = Image.new("RGB", (16, 16), "white")
    out = io.BytesIO()
    icc = b"SECRET-ICC" * 10
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "SECRET-TEXT")
        info.add_itxt("XML:com.adobe.xmp", "SECRET-XMP")
        image.save(out, format="PNG", pnginfo=info, icc_profile=icc)
    elif fmt == "JPEG":
        image.save(
            out,
            format="JPEG",
            comment=b"SECRET-TEXT",
            icc_profile=icc,
            xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>",
        )
    else:
        image.save(out, format="WEBP", icc_profile=icc, xmp=b"SECRET-XMP SECRET-TEXT")
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_text_xmp_and_icc_metadata_is_stripped(gql, client, settings, fmt):
    alice = await register(gql, "alice")
    original = _with_metadata(fmt)
    assert b"SECRET-XMP" in original
    with Image.open(io.BytesIO(original)) as check:  # the premise: the metadata is there
        assert check.info["icc_profile"] == b"SECRET-ICC" * 10
    picture = await uploaded(client, alice.token, original)
    stored = await stored_plain(settings, await Picture.get(id=key(picture["id"])))
    for secret in (b"SECRET-TEXT", b"SECRET-XMP", b"SECRET-ICC"):
        assert secret not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == fmt
        assert not {"icc_profile", "xmp", "comment", "Author", "exif"} & set(image.info)


def test_the_default_limits(settings):
    assert settings.picture_max_bytes == 5 * 1024 * 1024
    assert settings.picture_max_pixels == 25_000_000


@pytest.mark.parametrize("value", ["not a file", 5, {"name": "x.png"}])
async def test_a_file_sent_as_json_is_invalid(gql, value):
    from tests.personal_helpers import UPLOAD

    alice = await register(gql, "alice")
    body = await gql(UPLOAD, {"input": {"file": value}}, token=alice.token)
    assert codes(body["data"]["uploadPicture"]) == [("INVALID", "file")]
    assert await Picture.all().count() == 0


def _broken_exif(fmt: str) -> bytes:
    """A picture whose EXIF block has a bad TIFF header (the pixels are fine)."""
    import struct
    import zlib

    source = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(source, format=fmt, exif=gps_exif().tobytes())
    data = source.getvalue()
    assert data.count(b"MM\x00*") == 1
    data = data.replace(b"MM\x00*", b"MM\x00(")
    if fmt == "PNG":  # keep the chunk's CRC right, so only the EXIF is broken
        at = data.index(b"eXIf")
        length = struct.unpack(">I", data[at - 4 : at])[0]
        chunk = data[at : at + 4 + length]
        data = (
            data[: at + 4 + length] + struct.pack(">I", zlib.crc32(chunk)) + data[at + 8 + length :]
        )
    return data


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_a_picture_with_broken_exif_is_accepted_without_it(gql, client, settings, fmt):
    """Pixels that decode are a picture; a damaged EXIF block is discarded like any other,
    not a reason for a server error."""
    alice = await register(gql, "alice")
    broken = _broken_exif(fmt)
    with Image.open(io.BytesIO(broken)) as check:  # the premise: Pillow chokes on the EXIF
        check.load()
        with pytest.raises(SyntaxError):
            check.getexif()
    picture = await uploaded(client, alice.token, broken, filename=f"x.{fmt}")
    assert (picture["width"], picture["height"]) == (30, 20)
    stored = await stored_plain(settings, await Picture.get(id=key(picture["id"])))
    _has_no_metadata(stored)


@pytest.mark.parametrize(("orientation", "size"), [(1, (80, 30)), (3, (80, 30)), (8, (30, 80))])
async def test_each_orientation_gives_the_upright_size(gql, client, orientation, size):
    alice = await register(gql, "alice")
    exif = Image.Exif()
    exif[0x0112] = orientation
    source = io.BytesIO()
    Image.new("RGB", (80, 30), "red").save(source, format="JPEG", exif=exif.tobytes())
    picture = await uploaded(client, alice.token, source.getvalue())
    assert (picture["width"], picture["height"]) == size


async def test_orientation_6_turns_the_pixels_clockwise(gql, client, settings):
    alice = await register(gql, "alice")
    image = Image.new("RGB", (4, 2), (0, 0, 255))
    image.putpixel((0, 0), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    source = io.BytesIO()
    image.save(source, format="PNG", exif=exif.tobytes())
    picture = await uploaded(client, alice.token, source.getvalue(), filename="x.png")
    stored = await stored_plain(settings, await Picture.get(id=key(picture["id"])))
    with Image.open(io.BytesIO(stored)) as upright:
        assert upright.size == (2, 4)
        assert upright.convert("RGB").getpixel((1, 0)) == (255, 0, 0)
        assert upright.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
