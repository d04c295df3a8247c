import json
import shutil

import numpy as np
import pytest

from assistant.answer.question import parse
from assistant.answer.scorer import CARD, MODELS, Scorer
from assistant.errors import ConfigError


def test_committed_models_score_known_rows_as_trained():
    scorer = Scorer()
    sentence, decline = scorer.card["known"]["sentence"], scorer.card["known"]["decline"]
    assert sentence and decline
    for check in sentence:
        rows = np.array(check["sentence_rows"], dtype=np.float32)
        assert scorer.sentence_probabilities(rows) == pytest.approx(check["sentence"], abs=1e-6)
    for check in decline:
        row = np.array(check["decline_row"], dtype=np.float32)
        assert scorer.decline_probability(row) == pytest.approx(check["decline"], abs=1e-6)


def test_card_records_data_thresholds_and_cross_validated_figures():
    card = Scorer().card
    assert card["data"]["sentence"]["questions"] == 8755
    assert set(card["data"]["decline"]["sets"]) == {"squad11", "news"}
    assert 0 < card["thresholds"]["decline"] < 1 and 0 < card["thresholds"]["second"] <= 1
    assert card["cross_validation"]["sentence"]["evidence_hit"]["mean"] > 0.7
    declines = card["cross_validation"]["decline"]["all"]
    assert declines["declined_answerable"]["mean"] <= 0.05
    assert declines["declined_silent"]["mean"] > 0.5 and declines["declined_other"]["mean"] > 0.5
    assert 0 < card["thresholds"]["unsure"] < card["thresholds"]["decline"]
    assert declines["confident_answerable"]["mean"] >= 1 - card["params"]["unsure_max"] - 0.01
    assert card["calibration"]["cross_validation"]["calibration_error"]["mean"] <= 0.05


def test_the_confidence_falls_as_a_decline_grows_likelier():
    scorer = Scorer()
    confidence = [scorer.calibration.confidence(p) for p in np.linspace(0, 1, 101)]
    assert all(0 <= c <= 1 for c in confidence) and confidence == sorted(confidence, reverse=True)
    assert confidence[0] > 0.8 and confidence[-1] < 0.2
    assert scorer.calibration.confidence(scorer.thresholds.unsure) >= scorer.calibration.confidence(scorer.thresholds.decline)


def test_a_model_file_that_is_not_the_one_its_card_names_is_refused(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(MODELS, folder)
    card = json.loads((folder / CARD).read_text())
    path = folder / card["files"]["sentence"]["name"]
    path.write_text(path.read_text() + "\n")
    with pytest.raises(ConfigError, match="make train"):
        Scorer(folder)


def test_a_card_for_other_features_is_refused(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(MODELS, folder)
    card = json.loads((folder / CARD).read_text())
    card["sentence_features"] = card["sentence_features"][1:]
    (folder / CARD).write_text(json.dumps(card))
    with pytest.raises(ConfigError, match="other features"):
        Scorer(folder)


@pytest.mark.parametrize("question, kind", [
    ("How many children does he have?", "how_many"),
    ("In what year did the war start?", "when"),
    ("Why did Boris Bondarev resign?", "why"),
    ("Did Bondarev plan to defect?", "yes_no"),
    ("The ambassador received the letter from whom?", "who"),
])
def test_questions_are_read_for_the_kind_of_answer_they_ask(question, kind):
    assert parse(question).kind == kind


def test_question_terms_and_names_fold_accents():
    query = parse("What did the café in Genève serve?")
    assert query.names == ("Geneve",)
    assert [w for w, _ in query.asked] == ["cafe", "geneve", "serve"]


def test_a_question_word_the_articles_paraphrase_is_not_absent_from_them(seeded):
    # the seeds say "it's been tough to maintain my sanity", and nothing about the weather
    sane = parse("How hard has it been for Bondarev to stay sane?")
    features = seeded.answerer.features(sane, seeded.retriever.searcher.search(sane.text))
    assert features.absent == []
    sentence = next(c.chunk for c in features.cands if "tough to maintain my sanity" in c.chunk.text)
    assert features.paraphrased(sentence, features.found_in(sentence)) > 0.4 > features.cover(features.found_in(sentence))
    weather = parse("What was the weather in Geneva on the day Bondarev resigned?")
    assert seeded.answerer.features(weather, seeded.retriever.searcher.search(weather.text)).absent == ["weather"]


def test_committed_reader_reads_known_windows_as_trained():
    scorer = Scorer()
    checks = scorer.card["reader_known"]
    assert checks
    for check in checks:
        # bf16 where the CPU has it (AMX), fp32 elsewhere: margins agree within 0.1 (docs/method.md)
        assert scorer.reader.read(check["question"], [check["window"]])[0].margin == pytest.approx(check["margin"], abs=0.1)
