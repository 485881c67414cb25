"""Prescription images read by OCR: safe image intake, two OCR engines, and field extraction.

No database, Redis or settings beyond OCR_ENGINE: the CLI (`pharmacy-saas ocr`), the benchmark and
(later) the RQ job call `pipeline.read_prescription(image_bytes)` the same way.
"""
