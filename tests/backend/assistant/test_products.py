"""The assistant names exactly the product asked about, or asks which one: the issue's two questions on a
shelf with several makers of one generic and strength, narrowing by strength, form, release, maker and
barcode, no silent truncation, and the same facts in what a model receives."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.assistant.local_engine import answer
from backend.assistant.openai_provider import CircuitBreaker, stream_answer
from backend.assistant.products import MAX_PRODUCTS_LISTED, read_product
from backend.assistant.tools import call_tool
from backend.core.settings import Settings
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.provisioning import NewBranch, NewChain, provision_tenant
from tenants.session import run_in_tenant
from tests.assistant_llm_server import FakeModel, tool_call

# generic, strength, form, maker, {branch code: units}
SHELF = [
    ("Amitriptyline", "10 mg", "tablet", "Teva", {"MS": 120, "RS": 40}),
    ("Amitriptyline", "10 mg", "tablet", "Sandoz", {"MS": 85}),
    ("Amitriptyline", "10 mg", "tablet", "Mylan", {"MS": 470}),
    ("Amitriptyline", "25 mg", "tablet", "Teva", {"MS": 300}),
    ("Amitriptyline", "50 mg", "tablet", "Sandoz", {"MS": 210}),
    ("Lorazepam", "0.5 mg", "tablet", "Ativan", {"MS": 30}),
    ("Lorazepam", "0.5 mg", "tablet", "Teva", {"MS": 64, "RS": 12}),
    ("Lorazepam", "1 mg", "tablet", "Teva", {"MS": 90}),
    ("Metformin", "500 mg", "tablet", "Zydus", {"MS": 600}),
    ("Metformin", "500 mg", "extended-release tablet", "Sun Pharma", {"MS": 180}),
]
MAKERS = ("Teva", "Sandoz", "Mylan", "Aurobindo", "Zydus", "Sun Pharma", "Apotex", "Lupin", "Amneal", "Cipla",
          "Perrigo", "Major", "Accord", "Hikma")  # fmt: skip


@pytest.fixture
def shelf(db):
    suffix = uuid.uuid4().hex[:8]
    chain = provision_tenant(
        NewChain(
            name="Shelf Pharmacy",
            slug=f"shelf-{suffix}",
            owner_email=f"owner-{suffix}@shelf.example",
            owner_name="Owner",
            owner_password_hash="x",
            branches=(NewBranch("Main Street", "MS"), NewBranch("Riverside", "RS")),
        ),
        actor="test",  # type: ignore[arg-type]
        reason="test",
    )
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branches = {"MS": str(chain.branch_ids[0]), "RS": str(chain.branch_ids[1])}
    ids = {}
    expiry = (date.today() + timedelta(days=200)).isoformat()
    for n, (generic, strength, form, maker, stock) in enumerate(SHELF):
        ids[(generic, strength, form, maker)] = medicine = run_in_tenant(
            owner,
            create_medicine,
            generic_name=generic,
            brand_name=maker,
            strength=strength,
            dosage_form=form,
            barcode=f"29000000{n:05d}",
            default_sell_price="0.20",
        )
        for code, units in stock.items():
            run_in_tenant(
                owner,
                receive_stock,
                branch_id=branches[code],
                medicine_id=medicine,
                lot_number=f"L{n}{code}",
                expiry_date=expiry,
                quantity=units,
            )
    return owner, ids


def db_on_hand(db, medicine_ids, branch_name=None) -> dict[str, int]:
    db.execute(text("RESET ROLE"))  # the truth, read as the owner
    rows = db.execute(
        text(
            "SELECT b.medicine_id, sum(b.quantity)::int AS n FROM batches b JOIN branches br ON br.id = b.branch_id "
            "WHERE b.medicine_id = ANY(CAST(:ids AS uuid[])) AND (CAST(:br AS text) IS NULL OR br.name = :br) "
            "GROUP BY b.medicine_id"
        ),
        {"ids": list(medicine_ids), "br": branch_name},
    ).all()
    return {str(r.medicine_id): r.n for r in rows}


def stock_rows(reply) -> dict[str, int]:
    return {row["medicine_id"]: row["on_hand"] for d in reply.data for row in d.get("medicines", [])}


def test_the_on_hand_for_lorazepam_at_main_street_is_a_stock_question(db, shelf):
    owner, ids = shelf
    reply = answer(owner, "what's the on-hand for lorazepam 0.5 mg at the Main Street branch")
    assert reply.intent == "stock"
    wanted = [ids[("Lorazepam", "0.5 mg", "tablet", m)] for m in ("Ativan", "Teva")]
    truth = db_on_hand(db, wanted, "Main Street")
    assert stock_rows(reply) == truth  # the two 0.5 mg products, not the 1 mg
    total = sum(truth.values())
    first_line = reply.text.splitlines()[1]
    assert f"Lorazepam 0.5 mg tablet: {total} tablets on hand in total, 2 products" in first_line  # total first
    assert "Ativan" in reply.text and "Teva" in reply.text


def test_how_many_amitriptyline_10_mg_gives_all_three_makers_and_nothing_else(db, shelf):
    owner, ids = shelf
    reply = answer(owner, "Main Street: how many Amitriptyline 10 mg?")
    ten_mg = [ids[("Amitriptyline", "10 mg", "tablet", m)] for m in ("Teva", "Sandoz", "Mylan")]
    truth = db_on_hand(db, ten_mg, "Main Street")
    assert stock_rows(reply) == truth and len(truth) == 3  # Mylan's 470 included; 25 mg and 50 mg not
    assert "25 mg" not in reply.text and "50 mg" not in reply.text
    assert f"{sum(truth.values())} tablets on hand in total, 3 products" in reply.text
    lines = [line for line in reply.text.splitlines() if line.startswith("  - ")]
    assert [re.match(r"  - (\w+)", line).group(1) for line in lines] == ["Mylan", "Teva", "Sandoz"]  # type: ignore[union-attr]
    assert len(set(lines)) == 3  # no two products read alike
    (data,) = reply.data
    assert data["groups"] == [
        {
            "name": "Amitriptyline 10 mg tablet",
            "total_on_hand": sum(truth.values()),
            "total_sellable": sum(truth.values()),
            "unit": "tablet",
            "products": [ids[("Amitriptyline", "10 mg", "tablet", m)] for m in ("Mylan", "Teva", "Sandoz")],
        }
    ]


@pytest.mark.parametrize(
    ("question", "makers"),
    [
        ("how many Mylan amitriptyline 10 mg at main street", ["Mylan"]),
        ("amitriptyline 10mg by teva stock", ["Teva"]),
        ("stock of 2900000000002", ["Mylan"]),  # Mylan's barcode
        ("how many metformin ER 500 do we have", ["Sun Pharma"]),
        ("metformin 500 mg extended-release on hand", ["Sun Pharma"]),
        ("lorazepam 0.5 left?", ["Ativan", "Teva"]),
    ],
)
def test_maker_barcode_release_and_a_bare_strength_narrow_the_match(db, shelf, question, makers):
    owner, ids = shelf
    reply = answer(owner, question)
    rows = [row for d in reply.data for row in d["medicines"]]
    assert sorted(r["maker"] for r in rows) == sorted(makers), reply.text
    truth = db_on_hand(db, [r["medicine_id"] for r in rows], "Main Street" if "main street" in question else None)
    assert {r["medicine_id"]: r["on_hand"] for r in rows} == truth


@pytest.mark.parametrize(
    ("question", "offered"),
    [
        ("how many amitriptyline 75 mg", "10 mg, 25 mg, 50 mg"),
        ("Sun Pharma amitriptyline 10 mg on hand", "Mylan, Sandoz, Teva"),  # a maker of other products
        ("lorazepam 0.5 mg capsules in stock?", "tablet"),
    ],
)
def test_when_nothing_fits_it_says_so_offers_what_there_is_and_gives_no_number(shelf, question, offered):
    owner, _ = shelf
    reply = answer(owner, question)
    assert reply.intent == "stock" and "Which one do you mean?" in reply.text and offered in reply.text
    assert not any(d["medicines"] for d in reply.data) and reply.data[0]["needs_choice"]
    assert not re.search(r"\d+ tablets", reply.text)


def test_a_word_that_names_nothing_is_said_to_be_ignored(shelf):
    owner, _ = shelf
    reply = answer(owner, "how many Cipla amitriptyline 10 mg")  # no maker of that name in the chain
    assert "I did not use 'cipla'" in reply.text and "Mylan" in reply.text


def test_a_tool_never_truncates_silently(db, shelf):
    owner, _ = shelf
    for n, maker in enumerate(MAKERS):  # 14 makers of one generic and strength: more than one answer lists
        run_in_tenant(
            owner,
            create_medicine,
            generic_name="Cetirizine",
            brand_name=maker,
            strength="10 mg",
            barcode=f"2911{n:06d}",
        )
    result = call_tool(owner, "medicine_stock", {"medicine": "cetirizine 10 mg"})
    assert result.data["products_matched"] == len(MAKERS) > MAX_PRODUCTS_LISTED
    listed = [line for line in result.text.splitlines() if re.match(r"  - .+, barcode \d+: ", line)]
    assert len(listed) == MAX_PRODUCTS_LISTED
    assert f"and {len(MAKERS) - MAX_PRODUCTS_LISTED} more products not listed here" in result.text
    assert "name the maker or barcode" in result.text
    assert len(result.data["medicines"]) == len(MAKERS)  # the data keeps every one

    reply = answer(owner, "how many amitriptyline")  # a generic in three strengths: every group and product
    assert [g["name"] for g in reply.data[0]["groups"]] == [
        "Amitriptyline 10 mg tablet",
        "Amitriptyline 25 mg tablet",
        "Amitriptyline 50 mg tablet",
    ]


def test_the_model_receives_maker_barcode_and_the_group_total(db, shelf):
    owner, ids = shelf
    model = FakeModel().start()
    try:
        model.then(tool_call("medicine_stock", medicine="amitriptyline", strength="10 mg", branch="Main Street"))
        settings = Settings(  # type: ignore[call-arg]
            ASSISTANT_OPENAI_BASE_URL=model.base_url,
            ASSISTANT_OPENAI_API_KEY="sk-test",
            ASSISTANT_OPENAI_MODEL="fake-pharmacy-1",
            ASSISTANT_OPENAI_TIMEOUT=2.0,
            ASSISTANT_OPENAI_MAX_RETRIES=0,
        )
        events = list(stream_answer(owner, "how many amitriptyline 10 mg at main street", settings=settings,
                                    breaker=CircuitBreaker()))  # fmt: skip
    finally:
        model.stop()
    assert events[-1].engine == "openai"  # type: ignore[union-attr]
    tool_message = next(m for m in model.requests[-1]["messages"] if m["role"] == "tool")["content"]
    truth = db_on_hand(db, [ids[("Amitriptyline", "10 mg", "tablet", m)] for m in ("Teva", "Sandoz", "Mylan")],
                       "Main Street")  # fmt: skip
    assert f"{sum(truth.values())} tablets on hand in total, 3 products" in tool_message
    for maker, barcode in (("Teva", "2900000000000"), ("Sandoz", "2900000000001"), ("Mylan", "2900000000002")):
        assert f"{maker}, barcode {barcode}: {truth[ids[('Amitriptyline', '10 mg', 'tablet', maker)]]}" in tool_message
    assert "25 mg" not in tool_message
    tools = json.dumps(model.requests[0]["tools"])
    assert '"maker"' in tools and '"barcode"' in tools and '"strength"' in tools


@pytest.mark.parametrize(
    ("phrase", "words", "strength", "form", "release", "barcode"),
    [
        ("lorazepam 0.5 mg", ("lorazepam",), "0.5 mg", "", "", ""),
        ("lorazepam 0.5", ("lorazepam",), "0.5", "", "", ""),
        ("Amitriptyline 10mg tabs Teva", ("amitriptyline", "teva"), "10mg", "tablet", "", ""),
        ("metformin ER 500", ("metformin",), "500", "", "extended", ""),
        ("bupropion SR 150 mg", ("bupropion",), "150 mg", "", "sustained", ""),
        ("amoxicillin 250 mg/5 mL suspension", ("amoxicillin",), "250 mg/5 ml", "suspension", "", ""),
        ("5012345000011", (), "", "", "", "5012345000011"),
    ],
)
def test_reading_a_product_phrase(phrase, words, strength, form, release, barcode):
    q = read_product(phrase)
    assert (q.words, q.strength_text, q.form, q.release, q.barcode) == (words, strength, form, release, barcode)


def test_strengths_compare_in_the_same_unit():
    assert read_product("valacyclovir 1 g").strength.fits(read_product("x 1000 mg").strength)  # type: ignore[union-attr]
    assert read_product("levothyroxine 50 mcg").strength.fits(read_product("x 0.05 mg").strength)  # type: ignore[union-attr]
    assert not read_product("amitriptyline 10 mg").strength.fits(read_product("x 100 mg").strength)  # type: ignore[union-attr]


def test_two_medicines_in_one_question_and_a_low_stock_question_about_one(db, shelf):
    owner, ids = shelf
    reply = answer(owner, "how many lorazepam 1 mg and amitriptyline 25 mg at main street?")
    wanted = [ids[("Lorazepam", "1 mg", "tablet", "Teva")], ids[("Amitriptyline", "25 mg", "tablet", "Teva")]]
    assert stock_rows(reply) == db_on_hand(db, wanted, "Main Street")
    low = answer(owner, "is lorazepam 1 mg below its reorder point at Main Street?")
    assert low.intent == "stock" and "I did not use" not in low.text
    assert stock_rows(low) == db_on_hand(db, wanted[:1], "Main Street")


def test_a_short_reply_to_which_one_completes_the_question(db, shelf):
    from backend.assistant.conversations import ask

    owner, ids = shelf
    conversation, (_, asked) = ask(owner, "how many amitriptyline 75 mg at Main Street?")
    assert "Which one do you mean?" in asked.body
    _, (_, answered) = ask(owner, "the 10 mg", conversation)
    assert answered.body.startswith("(Taking that as: how many amitriptyline at main street 10 mg)")
    truth = db_on_hand(db, [ids[("Amitriptyline", "10 mg", "tablet", m)] for m in ("Teva", "Sandoz", "Mylan")],
                       "Main Street")  # fmt: skip
    assert f"{sum(truth.values())} tablets on hand in total, 3 products" in answered.body
    _, (_, maker) = ask(owner, "Mylan", conversation)  # the last answer asked nothing: a question of its own
    assert "Taking that as" not in maker.body
    # A reply that is a question of its own is not read as a choice.
    _, (_, again) = ask(owner, "how many amitriptyline 75 mg", conversation)
    _, (_, other) = ask(owner, "what expires this month?", conversation)
    assert "Which one" in again.body and "Taking that as" not in other.body
