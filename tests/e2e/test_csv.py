"""Browser journey: import a catalog CSV with a bad row (report, then only the valid rows, in the
background with a progress bar), find an imported medicine, and download the catalog as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e

HEADER = "generic_name,brand_name,strength,dosage_form,barcode,schedule,default_sell_price"


def catalog_file(rows: int) -> bytes:
    lines = [HEADER]
    lines += [f"Generic {i:04d},Brand {i},{i % 40 + 1} mg,tablet,{80000000000000 + i},otc,0.25" for i in range(rows)]
    lines.insert(3, "Zolpidem,,10 mg,tablet,,controlled,,")  # row 4: a controlled drug without its class
    return ("\n".join(lines) + "\n").encode()


def test_import_a_catalog_with_a_bad_row_then_export_it(page: Page, app_url: str, committed_tenant):
    _, spec = committed_tenant("csv-browser")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory/csv")
    expect(page.locator("#imports-title")).to_be_visible(timeout=15000)

    page.locator("#csv-upload input[type=file]").set_input_files(
        {"name": "catalog.csv", "mimeType": "text/csv", "buffer": catalog_file(300)}
    )
    page.locator("#check-file").click()
    expect(page.locator("#problem-count")).to_have_text("1", timeout=15000)
    expect(page.locator("#valid-rows")).to_have_text("300")
    problem = page.locator(".problem-row").first
    expect(problem).to_contain_text("4")
    expect(problem).to_contain_text("needs its class")

    page.locator("#import-valid").click()  # 300 rows: more than imports at once, so a worker runs it
    expect(page.locator("#import-done")).to_contain_text("Imported 300 rows", timeout=60000)

    page.goto(f"{app_url}/inventory")
    page.locator("#catalog-search").fill("Brand 123")
    page.locator("#catalog-search").press("Enter")
    expect(page.locator(".medicine-row").first).to_contain_text("Generic 0123", timeout=15000)

    page.goto(f"{app_url}/inventory/csv")
    expect(page.locator("#export-catalog")).to_be_visible(timeout=15000)
    with page.expect_download(timeout=15000) as download:
        page.locator("#export-catalog").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert len(rows) == 300
    assert {"generic_name": "Generic 0123", "barcode": "80000000000123"}.items() <= rows[123].items()
