"""Reading ``.npz`` archives of a model folder: numeric arrays only, never pickles.

A model folder is untrusted input.  :func:`read_arrays` opens an archive member by
member, refuses anything but plain ``.npy`` members of numeric dtypes (an object array
would be unpickled by numpy), and, when they are stored uncompressed (what model
folders hold since layout 2 of :mod:`framing.runtime.compiled`), reads the file in one
pass and gives the arrays as read-only views of it: loading inflates nothing.

The file is read, not memory-mapped: a mapped file that is overwritten in place while
a long tagging run reads it (``cp`` over a model folder) would kill the process with
SIGBUS, and one read of a model's arrays costs a few milliseconds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import ModelError

__all__ = ["read_arrays", "write_arrays"]

#: Where each array's data starts in a file :func:`write_arrays` writes: a multiple of
#: this many bytes (numpy pads ``.npy`` headers to it too), so the arrays are aligned.
ALIGN = 64
#: Zip "extra field" id of the padding that aligns a member (the one Android's zipalign
#: uses; readers skip extra fields they do not know).
_PADDING_ID = 0xD935

_ARRAY_NAME = re.compile(r"[A-Za-z0-9_]+\.npy")


def read_arrays(npath: Path, fix: str) -> dict[str, np.ndarray]:
    """The numeric arrays of an ``.npz`` file; anything else is refused unread.

    When every array is stored uncompressed, the file is read once and the arrays are
    read-only views of it.  Compressed ones (what layout 1 of :mod:`framing.runtime.compiled`
    wrote) are inflated.

    Raises
    ------
    ModelError
        When the file is not such an archive, naming it and ``fix``.
    """
    import zipfile

    try:
        with zipfile.ZipFile(npath) as archive:
            members = archive.infolist()
            for member in members:
                if not _ARRAY_NAME.fullmatch(member.filename):
                    raise ModelError(
                        f"{npath}: unexpected member {member.filename!r} (only plain .npy "
                        f"arrays belong here); {fix}"
                    )
        if all(m.compress_type == zipfile.ZIP_STORED and not m.flag_bits & 1 for m in members):
            arrays = _stored_arrays(npath, members, fix)
        else:
            arrays = _inflated_arrays(npath, members)
    except ModelError:
        raise
    except Exception as exc:  # zipfile, numpy and OS errors of a damaged file
        reason = f"{type(exc).__name__}: {exc}"
        if "allow_pickle" in reason:
            reason = "it holds pickled Python objects, which are never loaded"
        raise ModelError(f"{npath}: not a readable array archive ({reason}); {fix}") from None
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
            kind = getattr(array, "dtype", type(array).__name__)
            raise ModelError(f"{npath}: member {name!r} is not a numeric array ({kind}); {fix}")
    return arrays


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` (what ``np.savez`` writes, readable by
    ``np.load``) whose every array starts at a multiple of :data:`ALIGN` bytes of the
    file, so that :func:`read_arrays` maps them aligned (the scoring kernel reads them as
    ``int64``/``double``; misaligned reads are undefined behaviour in C).  The file's
    buffer is aligned as malloc aligns, so the arrays in it are too.
    """
    import io
    import struct
    import zipfile

    from numpy.lib import format as npy

    with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            data = io.BytesIO()
            npy.write_array(data, np.asanyarray(array), allow_pickle=False)
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_STORED
            # The member's data follows its 30-byte local header, its name and its extra
            # field: pad the extra field so that the data starts aligned.
            start = fh.tell() + 30 + len(member.filename.encode("ascii")) + 4
            pad = -start % ALIGN
            member.extra = struct.pack("<HH", _PADDING_ID, pad) + bytes(pad)
            archive.writestr(member, data.getvalue())


def _inflated_arrays(npath: Path, members: list[Any]) -> dict[str, np.ndarray]:
    """The arrays of a compressed ``.npz`` (``np.load(allow_pickle=False)``, member by
    member), inflated in two threads: zlib lets go of the GIL while it inflates, so on a
    machine with a second core the model loads faster (it is loaded at every start)."""
    import threading
    import zipfile

    from numpy.lib import format as npy

    # Two shares of about equal compressed size, the largest members placed first.
    shares: list[list[Any]] = [[], []]
    sizes = [0, 0]
    for member in sorted(members, key=lambda m: -m.compress_size):
        k = sizes.index(min(sizes))
        shares[k].append(member)
        sizes[k] += member.compress_size
    found: dict[str, np.ndarray] = {}
    errors: list[BaseException] = []

    def read(share: list[Any]) -> None:
        try:
            with zipfile.ZipFile(npath) as archive:
                for member in share:
                    with archive.open(member) as fh:
                        found[member.filename] = npy.read_array(fh, allow_pickle=False)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    helper = threading.Thread(target=read, args=(shares[1],), daemon=True)
    helper.start()
    read(shares[0])
    helper.join()
    if errors:
        raise errors[0]
    return {m.filename[: -len(".npy")]: found[m.filename] for m in members}


def _stored_arrays(npath: Path, members: list[Any], fix: str) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` as read-only views of the file read once.

    Each member's ``.npy`` header is parsed here (numeric dtypes only: an object array
    is refused, never unpickled) and its data must lie inside the member.
    """
    import struct

    from numpy.lib import format as npy

    arrays: dict[str, np.ndarray] = {}
    with open(npath, "rb") as fh:
        whole = np.fromfile(fh, dtype=np.uint8)
        whole.flags.writeable = False
        for member in members:
            fh.seek(member.header_offset)
            local = fh.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise ValueError(f"member {member.filename!r}: no local header")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            start = member.header_offset + 30 + name_len + extra_len
            fh.seek(start)
            version = npy.read_magic(fh)
            read_header = (
                npy.read_array_header_1_0 if version == (1, 0) else (npy.read_array_header_2_0)
            )
            shape, fortran, dtype = read_header(fh)
            name = member.filename[: -len(".npy")]
            if dtype.hasobject or dtype.kind not in "fiub":
                raise ModelError(
                    f"{npath}: member {name!r} is not a numeric array ({dtype}); {fix}"
                )
            offset = fh.tell()
            count = int(np.prod(shape, dtype=np.int64))
            if offset + count * dtype.itemsize > start + member.file_size:
                raise ValueError(f"member {member.filename!r} is shorter than its header says")
            array = np.ndarray(
                shape, dtype, buffer=whole, offset=offset, order="F" if fortran else "C"
            )
            # Misaligned data (a file not written by write_arrays) is copied: numpy reads
            # it slower, and the scoring kernel must never see it.
            arrays[name] = array if array.flags.aligned else array.copy()
    return arrays
