"""Readers turn a source (an .xlsx path, a Google Sheet, an open workbook) into a :class:`Grid`."""
