"""Main-text extraction evaluation: ``newsmon eval extraction DIR [--json] [--baseline trafilatura]``.

DIR holds ``html/<id>.html`` and ``ground-truth.json`` ({id: {articleBody, url}}), the layout of
``../shared/eval/extraction``. Every page goes through :func:`pipeline.extract.extract_article`, the
very function the pipeline uses, and is scored with the benchmark's shingle metric:

1. words are ``\\w+`` matches (Unicode, case kept);
2. a text becomes the multiset of its overlapping 4-word shingles (a 1-3 word text is one shingle);
3. per page TP = shared shingles (minimum counts), FP = extra predicted, FN = missing;
   an exact match or two empty texts score 1;
4. precision = mean page precision over pages where the extractor returned something,
   recall = mean page recall over all pages;
5. F1 = harmonic mean of the two means.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    words = _WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def page_scores(predicted: str, truth: str) -> tuple[float, float]:
    """(precision, recall) of one page under the benchmark metric."""
    if predicted == truth:
        return 1.0, 1.0
    p, t = shingles(predicted), shingles(truth)
    if not p and not t:
        return 1.0, 1.0
    tp = sum((p & t).values())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


@dataclass
class PageResult:
    page_id: str
    precision: float
    recall: float
    returned: bool
    has_title: bool = False
    has_published: bool = False


def aggregate(results: list[PageResult]) -> dict:
    returned = [r for r in results if r.returned]
    precision = sum(r.precision for r in returned) / len(returned) if returned else 0.0
    recall = sum(r.recall for r in results) / len(results) if results else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pages": len(results)}


def load_dataset(directory: Path | str) -> list[tuple[str, bytes, str, str]]:
    """[(id, html bytes, url, gold text)] in id order; raises FileNotFoundError with a clear message."""
    d = Path(directory)
    gt_path = d / "ground-truth.json"
    if not gt_path.is_file() or not (d / "html").is_dir():
        raise FileNotFoundError(f"{d}: expected ground-truth.json and an html/ folder")
    gold = json.loads(gt_path.read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(gold):
        html_path = d / "html" / f"{page_id}.html"
        if not html_path.is_file():
            continue
        entry = gold[page_id]
        pages.append((page_id, html_path.read_bytes(), entry.get("url", ""), entry.get("articleBody", "") or ""))
    return pages


def _score_run(
    pages: list[tuple[str, bytes, str, str]], extract: Callable[[bytes, str], object]
) -> tuple[list[PageResult], float, list]:
    outputs = []
    start = time.perf_counter()
    for _page_id, html, url, _truth in pages:
        outputs.append(extract(html, url))
    elapsed = time.perf_counter() - start
    results = []
    for (page_id, _html, _url, truth), out in zip(pages, outputs, strict=True):
        text = out if isinstance(out, str) else (getattr(out, "text", "") if out is not None else "")
        text = text or ""
        p, r = page_scores(text, truth)
        results.append(
            PageResult(
                page_id,
                p,
                r,
                returned=bool(text.strip()),
                has_title=bool(getattr(out, "title", "")),
                has_published=getattr(out, "published", None) is not None,
            )
        )
    return results, elapsed, outputs


def _trafilatura_default(html: bytes, url: str) -> str:
    import trafilatura  # optional dependency, baseline only

    return trafilatura.extract(html, url=url) or ""


BASELINES: dict[str, Callable[[bytes, str], str]] = {"trafilatura": _trafilatura_default}


def run_extraction_eval(
    dir: Path | str,
    json_out: bool = False,
    baseline: str | None = None,
    *,
    echo: Callable[[str], None] = print,
    per_page: bool = False,
) -> dict:
    """Score the project's extractor on DIR; print a report; return the summary dict."""
    from pipeline.extract import extract_article

    pages = load_dataset(dir)
    if not pages:
        raise FileNotFoundError(f"{dir}: no pages found")

    if baseline is not None and baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; known: {', '.join(BASELINES)}")
    if baseline:
        # Import outside the timed region, and warm up once, for both extractors alike.
        BASELINES[baseline](pages[0][1], pages[0][2])
    extract_article(pages[0][1], pages[0][2])

    results, elapsed, _ = _score_run(pages, lambda html, url: extract_article(html, url))
    summary = aggregate(results)
    summary["pages_per_s"] = len(pages) / elapsed if elapsed else 0.0
    summary["title_rate"] = sum(r.has_title for r in results) / len(results)
    summary["published_rate"] = sum(r.has_published for r in results) / len(results)
    summary["empty_pages"] = sum(not r.returned for r in results)

    if baseline:
        b_results, b_elapsed, _ = _score_run(pages, BASELINES[baseline])
        b = aggregate(b_results)
        b["pages_per_s"] = len(pages) / b_elapsed if b_elapsed else 0.0
        summary["baseline"] = {"name": baseline, **b}
        summary["speed_ratio"] = summary["pages_per_s"] / b["pages_per_s"] if b["pages_per_s"] else 0.0

    lines = [
        f"extraction eval on {Path(dir)} ({summary['pages']} pages)",
        f"  newsmon     precision {summary['precision']:.4f}  recall {summary['recall']:.4f}  "
        f"F1 {summary['f1']:.4f}  {summary['pages_per_s']:.1f} pages/s",
        f"  metadata    title found {summary['title_rate']:.1%}  published date found {summary['published_rate']:.1%}"
        f"  empty outputs {summary['empty_pages']}",
    ]
    if baseline:
        b = summary["baseline"]
        lines.append(
            f"  {baseline:<11} precision {b['precision']:.4f}  recall {b['recall']:.4f}  "
            f"F1 {b['f1']:.4f}  {b['pages_per_s']:.1f} pages/s"
        )
        lines.append(f"  speed ratio newsmon/{baseline}: {summary['speed_ratio']:.2f}x")
    if per_page:
        for r in sorted(results, key=lambda r: 2 * r.precision * r.recall / ((r.precision + r.recall) or 1)):
            lines.append(f"    {r.page_id[:16]}  P {r.precision:.3f}  R {r.recall:.3f}")
    for line in lines:
        echo(line)
    if json_out:
        keys = ("precision", "recall", "f1", "pages", "pages_per_s")
        obj = {k: summary[k] for k in keys}
        obj.update({k: summary[k] for k in ("title_rate", "published_rate") if k in summary})
        if baseline:
            obj["baseline"] = summary["baseline"]
            obj["speed_ratio"] = summary["speed_ratio"]
        echo(json.dumps(obj))
    return summary


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m pipeline.evaluation.extraction DIR``) until the CLI wires it."""
    import argparse

    ap = argparse.ArgumentParser(prog="newsmon eval extraction")
    ap.add_argument("dir")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--baseline", choices=sorted(BASELINES))
    ap.add_argument("--per-page", action="store_true")
    args = ap.parse_args(argv)
    run_extraction_eval(args.dir, args.json, args.baseline, per_page=args.per_page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
