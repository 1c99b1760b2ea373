"""What ``framing tag`` wrote, as annotation records: see :mod:`framing.runtime.tagged_records`.

The reader lives in the runtime so that ``framing score`` (training) reads tag output the
same way the exporters do; this module keeps the exporters' name for it.
"""

from __future__ import annotations

from framing.runtime.tagged_records import is_tagged, is_tagged_file, read_any, tagged_records

__all__ = ["is_tagged", "is_tagged_file", "tagged_records", "read_any"]
