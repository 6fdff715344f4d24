"""A PEP 517 build backend in the standard library alone, so `pip install ./clients/python` works offline and needs no
setuptools or wheel (the registries this project is built with have no PyPI). It packs src/visionlabel into a
pure-Python wheel with its metadata and RECORD, and an sdist of the folder."""
import base64
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME, VERSION = "visionlabel", "0.1.0"
DIST = f"{NAME}-{VERSION}"
METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Python client for the VisionLabel annotation server (standard library only)
Requires-Python: >=3.9
License: MIT
Description-Content-Type: text/markdown

""" + (ROOT / "README.md").read_text(encoding="utf-8")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _files():
    for path in sorted((ROOT / "src" / NAME).rglob("*.py")):
        yield f"{NAME}/{path.relative_to(ROOT / 'src' / NAME).as_posix()}", path.read_bytes()


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = Path(metadata_directory) / f"{DIST}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(METADATA, encoding="utf-8")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: visionlabel-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    return info.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{DIST}-py3-none-any.whl"
    entries = list(_files())
    entries.append((f"{DIST}.dist-info/METADATA", METADATA.encode()))
    entries.append((f"{DIST}.dist-info/WHEEL", b"Wheel-Version: 1.0\nGenerator: visionlabel-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    entries.append((f"{DIST}.dist-info/top_level.txt", f"{NAME}\n".encode()))
    record = "\n".join(_record_line(n, d) for n, d in entries) + f"\n{DIST}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for entry, data in entries:
            wheel.writestr(entry, data)
        wheel.writestr(f"{DIST}.dist-info/RECORD", record)
    return name


def build_sdist(sdist_directory, config_settings=None):
    name = f"{DIST}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for path in ["pyproject.toml", "README.md", "_build", "src", "tests"]:
            sdist.add(ROOT / path, arcname=f"{DIST}/{path}", filter=lambda t: None if "__pycache__" in t.name else t)
        info = tarfile.TarInfo(f"{DIST}/PKG-INFO")
        data = METADATA.encode()
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return name
