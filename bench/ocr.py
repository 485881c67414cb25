"""Prescription OCR, both engines on the same images: per-field accuracy, seconds per image, memory.

Goals (issue 15) for the default engine on the shared samples: >= 95 % of fields exactly right
(after normalising case and whitespace), p95 <= 2.5 s per image on this 2-core machine, and a
worker's resident memory <= 1.5 GB.

Each engine runs in a fresh process of its own (as a worker would), so its memory is its own:
`RSS` is the process's peak resident set (VmHWM) after reading every image. Seconds are per image
from bytes to fields (`pipeline.read_prescription`, models already loaded, as in a worker; "CPU s"
is the process's CPU time for the same reads, all threads: less sensitive to other load), and
"OCR only" is the engine's recognition alone on the same page: the raw baseline that shows what the
image checks and the field extraction add.

Image sets: the shared samples (../shared/prescriptions, with expected.json) and 24 harder images
made by `devtools.rx_images` (seed 15) into .data/rx_images when that folder is empty.

Run: python -m bench.ocr [--engines rapidocr,easyocr] [--generated DIR] [--runs 1] [--fields]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "tests" / "data" / "prescriptions"  # copies of ../shared/prescriptions
GENERATED = ROOT / ".data" / "rx_images"


def _normal(value: object) -> str | None:
    return None if value is None else " ".join(str(value).lower().split())


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(engine: str, folders: list[str], runs: int, raw_baseline: bool = True) -> None:
    """Read every image of the folders with one engine; print one JSON document."""
    import logging

    from backend.ocr.images import open_upload
    from backend.ocr.pipeline import read_lines, read_prescription, warm_up

    logging.getLogger("backend.drugs.matcher").setLevel(logging.ERROR)
    started = time.perf_counter()
    reader = warm_up(engine)
    load_seconds = time.perf_counter() - started
    rss_loaded = _peak_rss_mb()
    results: dict[str, dict[str, object]] = {}
    for folder in folders:
        expected = json.loads((Path(folder) / "expected.json").read_text())
        for name in sorted(expected):
            data = (Path(folder) / name).read_bytes()
            seconds, raw, cpu = [], [], []
            for _ in range(runs):
                cpu_started = time.process_time()
                reading = read_prescription(data, engine=engine)
                cpu.append(time.process_time() - cpu_started)
                seconds.append(reading.seconds)
                if raw_baseline:
                    page = open_upload(data).pages[0]
                    t = time.perf_counter()
                    read_lines(reader, page)
                    raw.append(time.perf_counter() - t)
            results[f"{folder}/{name}"] = {
                "fields": reading.as_json(),
                "seconds": min(seconds) if runs > 1 else seconds[0],
                "raw_seconds": min(raw) if raw else None,
                "cpu_seconds": min(cpu),
            }
    print(
        json.dumps(
            {
                "load_seconds": load_seconds,
                "rss_loaded_mb": rss_loaded,
                "rss_peak_mb": _peak_rss_mb(),
                "images": results,
            }
        )
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def score(folder: Path, images: dict[str, dict[str, object]]) -> tuple[int, int, dict[str, list[int]], list[str]]:
    expected = json.loads((folder / "expected.json").read_text())
    right = total = 0
    per_field: dict[str, list[int]] = {}
    misses: list[str] = []
    for name, fields in expected.items():
        got = images[f"{folder}/{name}"]["fields"]
        assert isinstance(got, dict)
        for field, want in fields.items():
            if field.startswith("_"):
                continue
            ok = _normal(got.get(field)) == _normal(want)
            right += ok
            total += 1
            counts = per_field.setdefault(field, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                misses.append(f"{name} {field}: read {got.get(field)!r}, expected {want!r}")
    return right, total, per_field, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="rapidocr,easyocr")
    parser.add_argument("--generated", default=str(GENERATED), help="folder made by devtools.rx_images")
    parser.add_argument("--runs", type=int, default=1, help="reads per image (the fastest counts)")
    parser.add_argument("--fields", action="store_true", help="also print accuracy per field and the misses")
    parser.add_argument("--no-raw", action="store_true", help="skip the OCR-only baseline (halves the time)")
    parser.add_argument("--shared-only", action="store_true", help="only the shared samples")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folders", nargs="*", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.child:
        child(args.child, args.folders, args.runs, raw_baseline=not args.no_raw)
        return 0

    sets = [("shared samples", SHARED)]
    generated = Path(args.generated)
    if not args.shared_only:
        if not (generated / "expected.json").is_file():
            from devtools.rx_images import generate

            generate(generated, count=24, seed=15)  # the same seed gives the same images
        sets.append(("generated (harder)", generated))
    folders = [str(folder) for _, folder in sets]
    print(f"Prescription OCR: {', '.join(f'{label} ({folder})' for label, folder in sets)}; runs per image {args.runs}")
    rows = []
    details = []
    for engine in args.engines.split(","):
        command = [sys.executable, "-m", "bench.ocr", "--child", engine, "--runs", str(args.runs)]
        command += ["--no-raw"] if args.no_raw else []
        command += ["--folders", *folders]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            print(f"{engine}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        report = json.loads(done.stdout.strip().splitlines()[-1])
        for label, folder in sets:
            images = {k: v for k, v in report["images"].items() if k.startswith(f"{folder}/")}
            right, total, per_field, misses = score(folder, images)
            seconds = [float(v["seconds"]) for v in images.values()]
            raw = [float(v["raw_seconds"]) for v in images.values() if v["raw_seconds"] is not None]
            cpu = [float(v["cpu_seconds"]) for v in images.values()]
            rows.append(
                (
                    engine,
                    label,
                    len(images),
                    f"{100 * right / total:.1f}% ({right}/{total})",
                    f"{statistics.median(seconds):.2f}",
                    f"{_percentile(seconds, 0.95):.2f}",
                    f"{statistics.median(cpu):.2f}",
                    f"{statistics.median(raw):.2f}" if raw else "-",
                    f"{report['load_seconds']:.1f}",
                    f"{report['rss_peak_mb']:.0f}",
                )
            )
            details.append((engine, label, per_field, misses))
    header = (
        "engine",
        "images",
        "n",
        "fields right",
        "p50 s",
        "p95 s",
        "CPU s p50",
        "OCR only p50 s",
        "load s",
        "RSS MB",
    )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    if args.fields:
        for engine, label, per_field, misses in details:
            print(f"\n{engine}, {label}: " + ", ".join(f"{f} {r}/{t}" for f, (r, t) in per_field.items() if r < t))
            for miss in misses:
                print(f"  {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
