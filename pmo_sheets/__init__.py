"""pmo-sheets: standard project workbooks for PMOs, validated cell by cell and consolidated.

Data flows one way: a source (an .xlsx file or a Google Sheet) is read into a grid
(:mod:`pmo_sheets.grid`), the grid into records (:mod:`pmo_sheets.records`), the records into
findings (:mod:`pmo_sheets.validate`) or into the portfolio (:mod:`pmo_sheets.consolidate`), and the
portfolio into the master workbook (:mod:`pmo_sheets.master`). Spreadsheet I/O stays at the edges
(:mod:`pmo_sheets.readers`, :mod:`pmo_sheets.addin`); the core imports neither xlwings nor gspread.
"""

__version__ = "0.1.0"
