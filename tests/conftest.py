"""Shared fixtures.  Add new fixtures at the end; do not rename existing ones."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED_ARTICLE = SHARED / "seeds" / "tass-csto-lavrov.txt"
DEFAULT_CODEBOOK = REPO / "data" / "annotations" / "codebook.toml"

MINI_CODEBOOK = """\
version = "0.1.0"
name = "mini"
description = "A two-dimension codebook for tests."

[[dimensions]]
id = "frames"
name = "Frames"

[[dimensions.labels]]
id = "economic"
name = "Economic"
definition = "Costs, prices, trade."

[[dimensions.labels]]
id = "security"
name = "Security"
definition = "Threats, defence, war."

[[dimensions]]
id = "rhetoric"
name = "Rhetoric"

[[dimensions.labels]]
id = "loaded_language"
name = "Loaded language"
definition = "Emotionally charged words."
"""


@pytest.fixture
def mini_codebook_path(tmp_path: Path) -> Path:
    path = tmp_path / "codebook.toml"
    path.write_text(MINI_CODEBOOK, encoding="utf-8")
    return path


@pytest.fixture
def seed_article() -> Path:
    if not SEED_ARTICLE.is_file():
        pytest.skip(
            "../shared/seeds/tass-csto-lavrov.txt is absent (third-party data, not in the repo)"
        )
    return SEED_ARTICLE


DATA = REPO / "tests" / "data"


def _save_tiny_model(
    directory: Path, name: str, codebook_file: str, corpus_file: str, fit, **meta_extra
) -> Path:
    """Fit ``fit(texts, {dim: (label ids, indicator rows)})`` on a fixture and save it."""
    from framing.format.annotations import read_corpus
    from framing.format.codebook import load_codebook
    from framing.runtime.meta import ModelMeta
    from framing.runtime.model import save_model

    codebook = load_codebook(DATA / codebook_file)
    sentences = read_corpus([DATA / corpus_file], codebook).done()
    texts = [s.text for s in sentences]
    per_dim = {}
    for dim in codebook.dimensions:
        ids = list(dim.label_ids)
        Y = [[int(label in s.labels.get(dim.id, ())) for label in ids] for s in sentences]
        per_dim[dim.id] = (ids, Y)
    labels = {dim: ids for dim, (ids, _Y) in per_dim.items()}
    meta = {
        "name": name,
        **meta_extra,
        "level": "sentence",
        "labels": labels,
        "thresholds": {dim: dict.fromkeys(ids, 0.5) for dim, ids in labels.items()},
        "multi_label": dict.fromkeys(labels, True),
    }
    return save_model(directory / name, fit(texts, per_dim), ModelMeta.from_dict(meta), codebook)


def _fit_plain_tfidf(texts, labels_per_dim):
    """Word TF-IDF into logistic regression per label (not the compilable structure)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import ClassifierChain
    from sklearn.pipeline import Pipeline

    pipelines = {}
    for dim, (ids, Y) in labels_per_dim.items():
        binary = LogisticRegression(C=10.0, solver="liblinear")
        clf = OneVsRestClassifier(binary) if len(ids) > 1 else ClassifierChain(binary)
        pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2))), ("clf", clf)])
        pipelines[dim] = pipe.fit(texts, Y)
    return pipelines


@pytest.fixture(scope="session")
def loop_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sentence model (TF-IDF + logistic regression) trained on loop_corpus.jsonl."""
    return _save_tiny_model(
        tmp_path_factory.mktemp("models"),
        "loop-tiny",
        "loop_codebook.toml",
        "loop_corpus.jsonl",
        _fit_plain_tfidf,
    )


def fit_tagging_pipelines(texts, labels_per_dim, *, min_df=1, C=10.0):
    """The default pipeline structure (word + char_wb TF-IDF, one-vs-rest logistic regression)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    pipelines = {}
    for dim, (_ids, Y) in labels_per_dim.items():
        features = FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        lowercase=True,
                        analyzer="word",
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        min_df=min_df,
                    ),
                ),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df
                    ),
                ),
            ]
        )
        clf = OneVsRestClassifier(
            LogisticRegression(class_weight="balanced", solver="liblinear", C=C)
        )
        pipelines[dim] = Pipeline([("features", features), ("clf", clf)]).fit(texts, Y)
    return pipelines


@pytest.fixture(scope="session")
def tag_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small tagging model (default pipeline structure) fitted on tests/data/tiny_corpus.jsonl."""
    return _save_tiny_model(
        tmp_path_factory.mktemp("models"),
        "tag-tiny",
        "tiny_codebook.toml",
        "tiny_corpus.jsonl",
        fit_tagging_pipelines,
        version="0.0.1",
    )


@pytest.fixture(scope="session")
def tag_model(tag_model_path: Path):
    """The small tagging model, loaded (compiled scorer)."""
    from framing.runtime.model import load_model

    return load_model(tag_model_path)


@pytest.fixture(scope="session")
def s25_document_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A document-level model (narratives, subnarratives) trained by the CLI on small
    SemEval-2025 files written here: import, then train with the smallest config."""
    import json

    from typer.testing import CliRunner

    from framing.cli import app

    root = tmp_path_factory.mktemp("s25-doc")
    blame = "URW: Blaming the war on others rather than the invader"
    climate = "CC: Criticism of climate movement"
    kinds = [
        (blame, "Western sanctions hurt Europe and the West provoked the war in Ukraine."),
        (climate, "Climate activists and global elites push a green scam on ordinary people."),
        ("Other", "The council met on Tuesday and approved the budget for the bridge."),
    ]
    (root / "raw-documents").mkdir()
    rows = []
    for i in range(18):
        narrative, body = kinds[i % 3]
        name = f"EN_TR_{i:03d}"
        (root / "raw-documents" / f"{name}.txt").write_text(
            f"Headline {i}\n\n{body} Item {i}.\n", encoding="utf-8"
        )
        sub = "Other" if narrative == "Other" else f"{narrative}: Other"
        rows.append(f"{name}.txt\t{narrative}\t{sub}\n")
    (root / "annotations.txt").write_text("".join(rows), encoding="utf-8")
    runner = CliRunner()
    data = root / "train.jsonl"
    result = runner.invoke(
        app,
        [
            "import",
            "semeval2025",
            str(root / "raw-documents"),
            "-a",
            str(root / "annotations.txt"),
            "--split",
            "train",
            "-o",
            str(data),
        ],
    )
    assert result.exit_code == 0, result.output
    config = root / "s25.toml"
    config.write_text(
        f"""name = "s25-doc"
[data]
paths = [{json.dumps(str(data))}]
codebook = {json.dumps(str(root / "train.codebook.toml"))}
level = "document"
train = ["train"]
dev = []
test = []
[cv]
folds = 3
""",
        encoding="utf-8",
    )
    model = root / "model"
    result = runner.invoke(app, ["train", str(config), "--output", str(model), "--quiet"])
    assert result.exit_code == 0, result.output
    return model
