"""Archives (台账): an XLSX workbook of the records and a ZIP of the photos.

    xlsx.py     a streaming XLSX writer (no openpyxl at run time)
    records.py  what both archives read: name tables, scope and period filters, batches
    columns.py  the workbook's sheets, columns and the Chinese words in its cells
    sheets.py   the workbook: one sheet each for orders, order events, assignments and
                hours, ratings, volunteers, activities and attendance
    units.py    the sheets per platform and per unit (站所), with the unit scorecard
    photos.py   the photo ZIP

The workbook has Chinese headers and times in local time (naive datetimes, as Excel has no
time zones). Rows are read in batches from a streaming query and streamed into the sheet's
XML in a worker thread, so a big export neither holds every row in memory nor blocks the
event loop for long: 100,000 orders with their half a million events take well under 20 s
(bench/export.py).

Orders are chosen by the time they were placed, activities by their start, and volunteers'
hours by when they were booked; `period=None` takes everything.
"""

from services.archive.columns import SHEETS
from services.archive.gate import EXPORTS, ExportGate, ExportsBusy
from services.archive.photos import PhotoSummary, photo_entries, write_photo_zip
from services.archive.sheets import ArchiveSummary, write_xlsx
from services.archive.xlsx import XlsxWriter

__all__ = [
    "EXPORTS",
    "SHEETS",
    "ArchiveSummary",
    "ExportGate",
    "ExportsBusy",
    "PhotoSummary",
    "XlsxWriter",
    "photo_entries",
    "write_photo_zip",
    "write_xlsx",
]
