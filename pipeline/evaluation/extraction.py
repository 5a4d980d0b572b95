"""Main-text extraction evaluation: ``newsmon eval extraction DIR [--split all|dev|test] [--baseline trafilatura]``.

DIR holds ``html/<id>.html`` and ``ground-truth.json`` ({id: {articleBody, url}}), the layout of
``../shared/eval/extraction`` and ``../shared/eval/extraction-wcxb``. Every page goes through
:func:`pipeline.extract.extract_article`, the very function the pipeline uses, and is scored with
both benchmarks' metrics:

- **shingle** (the scrapinghub article-extraction benchmark): ``\\w+`` words, case kept, as a
  multiset of overlapping 4-word shingles (a 1-3 word text is one shingle); per page TP = shared
  shingles, an exact match or two empty texts score 1; precision = mean page precision over pages
  where the extractor returned something, recall = mean over all pages, F1 = harmonic mean of the two.
- **word** (WCXB): lower-cased ``\\w+`` words as a bag; per page P, R and F1; each averaged over all
  pages. An empty output scores 0; an empty gold scores 1 only when the output is empty too.

``--split`` picks a fixed half of the pages by a salted hash of the page id (``dev`` for looking at
failures, ``test`` for reporting; ``all`` for both), so a figure is reproducible and never measured
on the pages a rule was written from.

``--baseline trafilatura`` scores trafilatura as the benchmarks run it (``include_comments=False``)
and with ``favor_precision=True``, in the same run. Extractors are timed page by page in turn, so a
busy machine slows them alike; the difference in F1 to each baseline gets a paired bootstrap 95%
interval (resampling pages). Where ``wcxb-meta.json`` is present, title, author and date are
checked against it as well.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WORD = re.compile(r"\w+")
SPLIT_SALT = "newsmon-extraction-split-1"  # fixed once; changing it re-deals dev and test
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 13


# ------------------------------------------------------------------ metrics


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def page_scores(predicted: str, truth: str) -> tuple[float, float]:
    """(precision, recall) of one page under the shingle metric."""
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


def word_scores(predicted: str, truth: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of one page under the WCXB word-bag metric."""
    p = Counter(w.lower() for w in _WORD.findall(predicted or ""))
    t = Counter(w.lower() for w in _WORD.findall(truth or ""))
    if not t:
        return (1.0, 1.0, 1.0) if not p else (0.0, 0.0, 0.0)
    if not p:
        return 0.0, 0.0, 0.0
    overlap = sum((p & t).values())
    precision = overlap / sum(p.values())
    recall = overlap / sum(t.values())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass
class PageScore:
    """One extractor's scores on one page."""

    page_id: str
    shingle_p: float
    shingle_r: float
    returned: bool
    word_p: float
    word_r: float
    word_f1: float


def score_page(page_id: str, predicted: str, truth: str) -> PageScore:
    sp, sr = page_scores(predicted, truth)
    wp, wr, wf = word_scores(predicted, truth)
    return PageScore(page_id, sp, sr, bool(predicted.strip()), wp, wr, wf)


def shingle_summary(scores: Sequence[PageScore]) -> dict[str, float]:
    returned = [s for s in scores if s.returned]
    precision = sum(s.shingle_p for s in returned) / len(returned) if returned else 0.0
    recall = sum(s.shingle_r for s in scores) / len(scores) if scores else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def word_summary(scores: Sequence[PageScore]) -> dict[str, float]:
    n = len(scores) or 1
    return {
        "precision": sum(s.word_p for s in scores) / n,
        "recall": sum(s.word_r for s in scores) / n,
        "f1": sum(s.word_f1 for s in scores) / n,
    }


def paired_bootstrap(
    ours: Sequence[PageScore], theirs: Sequence[PageScore], rounds: int = BOOTSTRAP_ROUNDS, seed: int = BOOTSTRAP_SEED
) -> dict[str, list[float]]:
    """95% intervals of (ours - theirs) in shingle F1 and word F1, resampling pages with replacement."""
    n = len(ours)
    rng = random.Random(seed)
    diffs: dict[str, list[float]] = {"shingle_f1": [], "word_f1": []}
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        a = [ours[i] for i in idx]
        b = [theirs[i] for i in idx]
        diffs["shingle_f1"].append(shingle_summary(a)["f1"] - shingle_summary(b)["f1"])
        diffs["word_f1"].append(sum(s.word_f1 for s in a) / n - sum(s.word_f1 for s in b) / n)
    out = {}
    for key, values in diffs.items():
        values.sort()
        out[key] = [values[int(0.025 * (rounds - 1))], values[int(0.975 * (rounds - 1))]]
    return out


# ------------------------------------------------------------------ data


@dataclass
class Page:
    page_id: str
    html: bytes
    url: str
    truth: str
    meta: dict[str, Any] = field(default_factory=dict)  # wcxb-meta.json entry, when there is one


def split_of(page_id: str) -> str:
    """'dev' or 'test': a fixed half of the pages, by a salted hash of the id."""
    digest = hashlib.sha1(f"{SPLIT_SALT}:{page_id}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def load_dataset(directory: Path | str, split: str = "all") -> list[Page]:
    """Pages of DIR in id order, restricted to SPLIT; raises FileNotFoundError with a clear message."""
    if split not in ("all", "dev", "test"):
        raise ValueError(f"unknown split {split!r}; use all, dev or test")
    d = Path(directory)
    gt_path = d / "ground-truth.json"
    if not gt_path.is_file() or not (d / "html").is_dir():
        raise FileNotFoundError(f"{d}: expected ground-truth.json and an html/ folder")
    gold = json.loads(gt_path.read_text(encoding="utf-8"))
    meta_path = d / "wcxb-meta.json"
    metas = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    pages = []
    for page_id in sorted(gold):
        if split != "all" and split_of(page_id) != split:
            continue
        html_path = d / "html" / f"{page_id}.html"
        if not html_path.is_file():
            continue
        entry = gold[page_id]
        pages.append(
            Page(
                page_id,
                html_path.read_bytes(),
                entry.get("url", "") or "",
                entry.get("articleBody", "") or "",
                metas.get(page_id, {}),
            )
        )
    return pages


# ------------------------------------------------------------------ baselines


def _trafilatura(favor_precision: bool = False) -> Callable[[bytes, str], str]:
    def run(html: bytes, url: str) -> str:
        import trafilatura  # optional dependency of the evaluation only

        return trafilatura.extract(html, url=url, include_comments=False, favor_precision=favor_precision) or ""

    return run


# The benchmarks run trafilatura with include_comments=False; favor_precision is its other published setting.
BASELINE_GROUPS: dict[str, dict[str, Callable[[bytes, str], str]]] = {
    "trafilatura": {
        "trafilatura": _trafilatura(),
        "trafilatura-precision": _trafilatura(favor_precision=True),
    }
}


# ------------------------------------------------------------------ metadata checks (WCXB gold)


def _norm_words(text: str) -> str:
    return " ".join(_WORD.findall((text or "").lower()))


def metadata_checks(article: Any, meta: dict[str, Any]) -> dict[str, bool]:
    """Which of title, author, date agree with the WCXB annotation (only fields the annotation has)."""
    out: dict[str, bool] = {}
    title = meta.get("title")
    if title:
        out["title"] = _norm_words(article.title) == _norm_words(title)
    author = meta.get("author")
    if author:
        gold = _norm_words(author)
        out["author"] = any(
            _norm_words(a) and (_norm_words(a) in gold or gold in _norm_words(a)) for a in article.authors
        )
    date = meta.get("publish_date")
    if date:
        out["date"] = article.published is not None and article.published.date().isoformat() == str(date)[:10]
    return out


# ------------------------------------------------------------------ run


@dataclass
class RunResult:
    name: str
    scores: list[PageScore]
    seconds: float

    def summary(self) -> dict[str, Any]:
        n = len(self.scores)
        return {
            "shingle": shingle_summary(self.scores),
            "word": word_summary(self.scores),
            "pages": n,
            "pages_per_s": n / self.seconds if self.seconds else 0.0,
        }


def _dump_line(page: Page, article: Any) -> str:
    return json.dumps(
        {
            "id": page.page_id,
            "text": article.text,
            "title": article.title,
            "authors": article.authors,
            "published": article.published.isoformat() if article.published else None,
            "not_article_reason": article.not_article_reason,
        },
        ensure_ascii=False,
    )


def run_extraction_eval(
    dir: Path | str,
    json_out: bool = False,
    baseline: str | None = None,
    *,
    split: str = "all",
    dump: Path | str | None = None,
    worst: int = 0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score the project's extractor (and the baselines) on DIR; print a report; return the summary."""
    from pipeline.extract import extract_article

    if baseline is not None and baseline not in BASELINE_GROUPS:
        raise ValueError(f"unknown baseline {baseline!r}; known: {', '.join(BASELINE_GROUPS)}")
    pages = load_dataset(dir, split)
    if not pages:
        raise FileNotFoundError(f"{dir}: no pages found (split {split})")
    others = BASELINE_GROUPS[baseline] if baseline else {}

    # Imports and first-call set-up happen outside the timed region, for every extractor alike.
    extract_article(pages[0].html, pages[0].url)
    for fn in others.values():
        fn(pages[0].html, pages[0].url)

    ours = RunResult("newsmon", [], 0.0)
    theirs = {name: RunResult(name, [], 0.0) for name in others}
    meta_checks: dict[str, list[bool]] = {}
    empty = titled = dated = 0
    dump_file = open(dump, "w", encoding="utf-8") if dump else None  # noqa: SIM115 - closed below
    try:
        for page in pages:
            t0 = time.perf_counter()
            article = extract_article(page.html, page.url)
            ours.seconds += time.perf_counter() - t0
            ours.scores.append(score_page(page.page_id, article.text or "", page.truth))
            empty += not (article.text or "").strip()
            titled += bool(article.title)
            dated += article.published is not None
            for key, ok in metadata_checks(article, page.meta).items():
                meta_checks.setdefault(key, []).append(ok)
            if dump_file is not None:
                dump_file.write(_dump_line(page, article) + "\n")
            for name, fn in others.items():
                t0 = time.perf_counter()
                text = fn(page.html, page.url)
                theirs[name].seconds += time.perf_counter() - t0
                theirs[name].scores.append(score_page(page.page_id, text, page.truth))
    finally:
        if dump_file is not None:
            dump_file.close()

    summary = ours.summary()
    summary["split"] = split
    summary["empty_outputs"] = empty
    summary["title_rate"] = titled / len(pages)
    summary["published_rate"] = dated / len(pages)
    if meta_checks:
        summary["metadata_agreement"] = {k: sum(v) / len(v) for k, v in meta_checks.items()}
    if others:
        summary["baselines"] = {}
        for name, res in theirs.items():
            b = res.summary()
            b["speed_ratio"] = summary["pages_per_s"] / b["pages_per_s"] if b["pages_per_s"] else 0.0
            b["diff"] = {
                "shingle_f1": summary["shingle"]["f1"] - b["shingle"]["f1"],
                "word_f1": summary["word"]["f1"] - b["word"]["f1"],
            }
            b["diff_ci95"] = paired_bootstrap(ours.scores, res.scores)
            summary["baselines"][name] = b

    _report(dir, summary, ours, worst, echo)
    if json_out:
        echo(json.dumps(summary))
    return summary


def _line(name: str, s: dict[str, Any]) -> str:
    sh, wd = s["shingle"], s["word"]
    return (
        f"  {name:<22} shingle P {sh['precision']:.4f} R {sh['recall']:.4f} F1 {sh['f1']:.4f}   "
        f"word P {wd['precision']:.4f} R {wd['recall']:.4f} F1 {wd['f1']:.4f}   {s['pages_per_s']:.1f} pages/s"
    )


def _report(dir: Path | str, summary: dict[str, Any], ours: RunResult, worst: int, echo: Callable[[str], None]) -> None:
    echo(f"extraction eval on {Path(dir)} ({summary['pages']} pages, split {summary['split']})")
    echo(_line("newsmon", summary))
    for name, b in summary.get("baselines", {}).items():
        echo(_line(name, b))
    for name, b in summary.get("baselines", {}).items():
        ci = b["diff_ci95"]
        echo(
            f"  newsmon - {name}: shingle F1 {b['diff']['shingle_f1']:+.4f} "
            f"[{ci['shingle_f1'][0]:+.4f}, {ci['shingle_f1'][1]:+.4f}]  word F1 {b['diff']['word_f1']:+.4f} "
            f"[{ci['word_f1'][0]:+.4f}, {ci['word_f1'][1]:+.4f}]  speed {b['speed_ratio']:.2f}x"
        )
    meta = f"  metadata: title found {summary['title_rate']:.1%}, published found {summary['published_rate']:.1%}"
    meta += f", empty outputs {summary['empty_outputs']}"
    for key, rate in summary.get("metadata_agreement", {}).items():
        meta += f", {key} agrees with gold {rate:.1%}"
    echo(meta)
    if worst:
        echo(f"  worst {worst} pages by word F1:")
        for s in sorted(ours.scores, key=lambda s: s.word_f1)[:worst]:
            echo(
                f"    {s.page_id:<20} word P {s.word_p:.3f} R {s.word_r:.3f}   shingle P {s.shingle_p:.3f} R {s.shingle_r:.3f}"
            )
