"""Harder prescription images than the shared samples, with their expected fields.

So the OCR is measured on layouts and writing it was not tuned on: three templates of our own (a
hospital outpatient form with "Label:" rows, a handwritten pad where the values are written in a
handwriting-like font, and a two-column clinic slip with the labels in a left column), the ways
people write dates ("March 14, 2026", "14.03.2026", "03/14/2026"), quantities ("thirty (30)",
"#30", "30 tabs"), refills ("NR", "no refills", "x3"), brand names, and photos that are skewed,
dim, unevenly lit and noisy. One seeded random source: the same seed gives the same images.

Fonts: DejaVu / Liberation for print and, where installed, Debian's handwriting-like fonts
(fonts-humor-sans, fonts-comic-neue, fonts-dkg-handwriting, fonts-breip; `make setup-dev` installs
them). Without them the "handwritten" values fall back to an italic, and the run says so.

Run: python -m devtools.rx_images OUT [--count 24 --seed 15]  (writes OUT/rx_g001.jpg ... and
OUT/expected.json in the shape of ../shared/prescriptions/expected.json)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from backend.clinical.sig import expand

PRINT_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
]
BOLD_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
]
HAND_FONTS = [
    "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/truetype/breip/Breip.ttf",
]
FALLBACK_HAND = "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf"

PATIENTS = [
    "Amara Okafor",
    "Lucas Brennan",
    "Sofia Marchetti",
    "Daniel K. Whitfield",
    "Noor Haddad",
    "Greta Lindholm",
    "Mateo Alvarez",
    "Priya Raman",
    "Owen J. Castellanos",
    "Hannah Weiss",
    "Kwame Mensah",
    "Ines Duarte",
]
PRESCRIBERS = [
    ("Laura Chen", "MD"),
    ("Samuel Adeyemi", "DO"),
    ("Rebecca Holm", "NP"),
    ("Marcus J. Delgado", "MD"),
    ("Yuki Tanaka", "M.D."),
    ("Elif Kaya", "PA-C"),
]
# (as written, generic, strength, form word, form, sig, quantity unit)
MEDICINES = [
    ("Lipitor", "atorvastatin", "20 mg", "tablet", "tablet", "1 tab PO qhs", "tablet"),
    ("Zoloft", "sertraline", "100 mg", "tabs", "tablet", "Take 1 tablet by mouth once daily", "tablet"),
    ("Norvasc", "amlodipine", "10 mg", "tab", "tablet", "1 tab po daily", "tablet"),
    ("Glucophage", "metformin", "500 mg", "tablet", "tablet", "1 tab PO BID with meals", "tablet"),
    ("Amoxicillin", "amoxicillin", "500 mg", "capsule", "capsule", "1 cap PO TID x 10 days", "capsule"),
    ("Losartan potassium", "losartan", "50 mg", "tablet", "tablet", "Take 1 tablet by mouth once daily", "tablet"),
    ("Neurontin", "gabapentin", "300 mg", "caps", "capsule", "1 cap PO TID", "capsule"),
    ("Cephalexin", "cephalexin", "500 mg", "capsule", "capsule", "1 cap PO QID x 7 days", "capsule"),
    ("Montelukast", "montelukast", "10 mg", "tablet", "tablet", "1 tab PO qhs", "tablet"),
    ("Prozac", "fluoxetine", "20 mg", "capsule", "capsule", "1 cap po qam", "capsule"),
    ("Metoprolol succinate", "metoprolol", "25 mg", "tablet", "tablet", "1 tab PO daily", "tablet"),
    ("Ibuprofen", "ibuprofen", "800 mg", "tablet", "tablet", "1 tab PO q8h prn pain", "tablet"),
]
NUMBER_WORDS = {10: "ten", 14: "fourteen", 20: "twenty", 28: "twenty-eight", 30: "thirty", 60: "sixty", 90: "ninety"}
CLINICS = ["Harbor View Medical Group", "St. Brigid Outpatient Clinic", "Cedar Hollow Family Health"]


@dataclass
class Rx:
    patient: str
    dob: date
    prescriber: str
    credential: str
    title: bool
    written: date
    medicine: tuple[str, str, str, str, str, str, str]
    quantity: int
    refills: int
    rx_number: str | None

    @property
    def prescriber_as_written(self) -> str:
        return f"Dr. {self.prescriber}" if self.title else f"{self.prescriber}, {self.credential}"

    def expected(self, meta: dict[str, object]) -> dict[str, object]:
        written, generic, strength, _, form, sig, unit = self.medicine
        return {
            "_meta": meta,
            "patient_name": self.patient,
            "date_of_birth": self.dob.isoformat(),
            "prescriber": self.prescriber,
            "prescriber_as_written": self.prescriber_as_written,
            "date_written": self.written.isoformat(),
            "drug": generic,
            "drug_as_written": written,
            "strength": strength,
            "form": form,
            "sig": sig,
            "sig_expanded": expand(sig).text,
            "quantity": self.quantity,
            "quantity_unit": unit,
            "refills": self.refills,
            "rx_number": self.rx_number,
        }


def written_date(rng: random.Random, when: date) -> str:
    style = rng.choice(["us", "dots", "long", "short", "iso"])
    if style == "us":
        return when.strftime("%m/%d/%Y")
    if style == "dots":
        return when.strftime("%d.%m.%Y")
    if style == "long":
        return f"{when.strftime('%B')} {when.day}, {when.year}"
    if style == "short":
        return f"{when.day} {when.strftime('%b')} {when.year}"
    return when.isoformat()


def written_quantity(rng: random.Random, quantity: int, form_word: str) -> str:
    style = rng.choice(["hash", "words", "plain", "unit"])
    if style == "hash":
        return f"#{quantity}"
    if style == "words" and quantity in NUMBER_WORDS:
        return f"{NUMBER_WORDS[quantity]} ({quantity})"
    if style == "unit":
        return f"{quantity} {form_word if form_word.endswith('s') else form_word + 's'}"
    return str(quantity)


def written_refills(rng: random.Random, refills: int) -> str:
    if refills == 0:
        return rng.choice(["0", "NR", "no refills", "None"])
    return rng.choice([str(refills), f"x{refills}"] if refills < 10 else [str(refills)])


def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def random_rx(rng: random.Random) -> Rx:
    name, credential = rng.choice(PRESCRIBERS)
    return Rx(
        patient=rng.choice(PATIENTS),
        dob=date(rng.randint(1935, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        prescriber=name,
        credential=credential,
        title=rng.random() < 0.3,
        written=date(2026, rng.randint(1, 11), rng.randint(1, 28)),
        medicine=rng.choice(MEDICINES),
        quantity=rng.choice([10, 14, 20, 28, 30, 60, 90]),
        refills=rng.choice([0, 0, 1, 2, 3, 5]),
        rx_number=str(rng.randint(1_000_000, 9_999_999)) if rng.random() < 0.6 else None,
    )


def hospital_form(rng: random.Random, rx: Rx, hand: str) -> Image.Image:
    """Outpatient form: "Label:" rows, values typed or handwritten after the colon."""
    page = Image.new("RGB", (1240, 1600), "white")
    draw = ImageDraw.Draw(page)
    label_font = font(rng.choice(BOLD_FONTS), 30)
    value_font = font(hand, 40)
    draw.text((80, 70), rng.choice(CLINICS).upper(), font=font(BOLD_FONTS[0], 42), fill="black")
    draw.text((80, 125), "Outpatient Prescription", font=font(PRINT_FONTS[1], 30), fill="#333")
    draw.line((80, 180, 1160, 180), fill="black", width=3)
    written, _, strength, form_word, _, sig, _ = rx.medicine
    rows = [
        ("Patient Name:", rx.patient),
        ("Date of Birth:", written_date(rng, rx.dob)),
        ("Date:", written_date(rng, rx.written)),
        ("Medication:", f"{written} {strength} {form_word}"),
        ("Sig:", sig),
        ("Qty:", written_quantity(rng, rx.quantity, form_word)),
        ("Refills:", written_refills(rng, rx.refills)),
    ]
    if rx.rx_number:
        rows.insert(3, ("Rx No.:", rx.rx_number))
    y = 240
    for label, value in rows:
        draw.text((80, y + 8), label, font=label_font, fill="black")
        draw.text((360, y), value, font=value_font, fill=rng.choice(["#10206a", "#111111", "#1a1a40"]))
        y += 95
    draw.line((600, y + 130, 1100, y + 130), fill="black", width=2)
    draw.text((600, y + 140), rx.prescriber_as_written, font=font(PRINT_FONTS[0], 30), fill="black")
    return page


def handwritten_pad(rng: random.Random, rx: Rx, hand: str) -> Image.Image:
    """A pad: printed letterhead, everything else handwritten (no labels for the medicine)."""
    page = Image.new("RGB", (1100, 1450), "#fbfaf4")
    draw = ImageDraw.Draw(page)
    draw.text((120, 60), rng.choice(CLINICS), font=font(BOLD_FONTS[1], 40), fill="#202020")
    draw.text((120, 115), rx.prescriber_as_written, font=font(BOLD_FONTS[0], 34), fill="#202020")
    draw.text((120, 160), "12 Market Street, Springfield, IL 62701", font=font(PRINT_FONTS[0], 24), fill="#333")
    draw.line((100, 210, 1000, 210), fill="#333", width=2)
    ink = rng.choice(["#0d1b6e", "#111111"])
    value_font = font(hand, 44)
    written, _, strength, form_word, _, sig, _ = rx.medicine
    small = font(PRINT_FONTS[0], 26)
    draw.text((120, 270), "Patient", font=small, fill="#333")
    draw.text((250, 255), rx.patient, font=value_font, fill=ink)
    draw.text((120, 350), "DOB", font=small, fill="#333")
    draw.text((250, 335), written_date(rng, rx.dob), font=value_font, fill=ink)
    draw.text((620, 350), "Date", font=small, fill="#333")
    draw.text((710, 335), written_date(rng, rx.written), font=value_font, fill=ink)
    draw.text((110, 450), "Rx", font=font(BOLD_FONTS[0], 80), fill="#202020")
    draw.text((270, 470), f"{written} {strength} {form_word}", font=value_font, fill=ink)
    draw.text((270, 560), f"Sig: {sig}", font=value_font, fill=ink)
    draw.text((270, 650), f"Disp: {written_quantity(rng, rx.quantity, form_word)}", font=value_font, fill=ink)
    draw.text((270, 740), f"Refills: {written_refills(rng, rx.refills)}", font=value_font, fill=ink)
    if rx.rx_number:
        draw.text((700, 740), f"Rx # {rx.rx_number}", font=small, fill="#333")
    return page


def clinic_slip(rng: random.Random, rx: Rx, hand: str) -> Image.Image:
    """Two columns: labels in small capitals on the left, values on the right, ruled rows."""
    page = Image.new("RGB", (1240, 1500), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((60, 60, 1180, 170), fill="#e8eef5")
    draw.text((90, 85), "PRESCRIPTION", font=font(BOLD_FONTS[0], 48), fill="#1b2a41")
    draw.text((760, 100), rng.choice(CLINICS), font=font(PRINT_FONTS[0], 24), fill="#1b2a41")
    written, _, strength, form_word, _, sig, _ = rx.medicine
    label_font = font(rng.choice(BOLD_FONTS), 26)
    value_font = font(hand if rng.random() < 0.5 else rng.choice(PRINT_FONTS), 38)
    rows = [
        ("PRESCRIBER", rx.prescriber_as_written),
        ("PATIENT", rx.patient),
        ("DOB", written_date(rng, rx.dob)),
        ("DATE WRITTEN", written_date(rng, rx.written)),
        ("MEDICATION", f"{written} {strength} {form_word}"),
        ("DIRECTIONS", sig),
        ("QUANTITY", written_quantity(rng, rx.quantity, form_word)),
        ("REFILLS", written_refills(rng, rx.refills)),
    ]
    if rx.rx_number:
        rows.append(("RX NUMBER", rx.rx_number))
    y = 230
    for label, value in rows:
        draw.text((90, y + 10), label, font=label_font, fill="#444")
        draw.text((400, y), value, font=value_font, fill="black")
        draw.line((90, y + 62, 1150, y + 62), fill="#bbb", width=1)
        y += 100
    return page


TEMPLATES = {"hospital_form": hospital_form, "handwritten_pad": handwritten_pad, "clinic_slip": clinic_slip}


def photograph(rng: random.Random, page: Image.Image) -> tuple[Image.Image, list[str]]:
    """Skew, a desk around the page, dim and uneven light, blur, sensor noise, JPEG."""
    done: list[str] = []
    angle = rng.uniform(-4.0, 4.0)
    margin = 90
    desk = Image.new("RGB", (page.width + 2 * margin, page.height + 2 * margin), rng.choice(["#6b5a45", "#8a8f96"]))
    desk.paste(page, (margin, margin))
    photo = desk.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor="#6b5a45")
    done.append(f"skew_{angle:+.1f}deg")
    light = rng.uniform(0.45, 0.75)
    photo = ImageEnhance.Brightness(photo).enhance(light)
    done.append(f"low_light_{light:.2f}")
    # Uneven light: a gradient from one side (a lamp, a window).
    gradient = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize(photo.size)
    shade = Image.new("RGB", photo.size, "black")
    photo = Image.composite(photo, shade, gradient.point(lambda v: 255 - int(v * 0.35)))
    done.append("uneven_light")
    if rng.random() < 0.5:
        photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
        done.append("blur")
    noise = Image.effect_noise(photo.size, rng.uniform(8, 18)).convert("RGB")
    photo = Image.blend(photo, noise, 0.08)
    done.append("noise")
    return photo, done


def generate(out: Path, count: int, seed: int) -> dict[str, dict[str, object]]:
    rng = random.Random(seed)
    hands = [path for path in HAND_FONTS if Path(path).exists()]
    if not hands:
        print("note: no handwriting-like fonts installed (make setup-dev); using an italic", file=sys.stderr)
        hands = [FALLBACK_HAND]
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    names = list(TEMPLATES)
    for index in range(count):
        template = names[index % len(names)]
        hand = rng.choice(hands)
        rx = random_rx(rng)
        page = TEMPLATES[template](rng, rx, hand)
        photo, degradations = photograph(rng, page)
        quality = rng.randint(60, 85)
        name = f"rx_g{index + 1:03d}.jpg"
        photo.save(out / name, format="JPEG", quality=quality)
        meta = {"template": template, "font": Path(hand).name, "degradations": [*degradations, f"jpeg_q{quality}"]}
        expected[name] = rx.expected(meta)
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    made = generate(args.out, args.count, args.seed)
    print(f"wrote {len(made)} images and expected.json to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
