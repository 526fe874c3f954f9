"""Subject access and erasure by handle (DESIGN.md, governance).

- `matching`: the subject (platform, handle, display name) and how stored text refers to them.
- `places`: every column that can hold a person's data, and what erasure does with it.
- `finding`: the search behind the summary page, the export and the erasure.
- `export`: the zip of JSON and CSV for the requester.
- `erasure`: the preview and the erasure, with an ErasureRecord of counts only.
"""

from governance.subject_access.erasure import (
    ErasureChanged,
    ErasureRefused,
    erasure_preview,
    erasure_reason_clean,
    subject_erase,
)
from governance.subject_access.export import subject_access_export, subject_access_zip
from governance.subject_access.finding import Findings, subject_access_find
from governance.subject_access.matching import Subject, SubjectError, subject_from

__all__ = [
    "ErasureChanged", "ErasureRefused", "Findings", "Subject", "SubjectError", "erasure_preview",
    "erasure_reason_clean", "subject_access_export", "subject_access_find", "subject_access_zip", "subject_erase", "subject_from",
]
