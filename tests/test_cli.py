import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main

from .support import SEEDS


def test_ingest_then_ask_prints_answer_and_citations(tmp_path, capsys):
    index = str(tmp_path / "ix")
    assert main(["ingest", str(SEEDS), "--index", index]) == 0
    assert "2 added" in capsys.readouterr().out
    assert main(["ask", "--index", index, "What did Bondarev rail against at the Foreign Ministry?"]) == 0
    out = capsys.readouterr().out
    assert "unprofessionalism" in out and "[1]" in out and "002_41f72d074bf60d22.txt" in out


def test_a_terminal_shows_the_answer_and_no_library_noise(seeded_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seeded_index, index)
    run = subprocess.run([str(Path(sys.executable).parent / "assistant"), "ask", "--index", str(index),
                          "What did Bondarev rail against at the Foreign Ministry?"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0 and "unprofessionalism" in run.stdout
    assert run.stderr == ""


def test_json_output_one_object_a_line_in_order(seeded_index, tmp_path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text("When was the letter delivered?\n\nWhat is the capital of Cambodia?\n", encoding="utf-8")
    assert main(["ask", "--index", str(seeded_index), "--file", str(questions), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["question"] for d in lines] == ["When was the letter delivered?", "What is the capital of Cambodia?"]
    assert list(lines[0]) == ["question", "answer", "abstained", "outcome", "confidence", "mode", "notice", "unsupported", "short_answer",
                              "citations"]
    assert lines[1]["abstained"] is True and lines[1]["citations"] == []
    assert lines[1]["notice"] == "They mention Cambodia, but not “capital”."


def test_a_decline_prints_what_the_articles_lack(seeded_index, capsys):
    assert main(["ask", "--index", str(seeded_index), "What is the name of Bondarev's wife?"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["The articles do not say.",
                                                       "(They mention Bondarev, but not “wife”.)"]


def test_questions_from_stdin_are_one_conversation(seeded_index, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Why did Boris Bondarev resign?\nWhen was his resignation letter delivered?\n"))
    assert main(["ask", "--index", str(seeded_index), "--json"]) == 0
    follow_up = json.loads(capsys.readouterr().out.splitlines()[1])
    assert follow_up["question"] == "When was his resignation letter delivered?" and "Monday" in follow_up["answer"]


def test_eval_prints_the_figures(seeded_index, capsys):
    from .support import QUESTIONS, shared

    assert main(["eval", str(shared(QUESTIONS)), "--index", str(seeded_index)]) == 0
    out = capsys.readouterr().out
    for figure in ("answer hit", "evidence hit", "citation validity 100.0%", "mean cited characters",
                   "unanswerable declined"):
        assert figure in out


@pytest.mark.parametrize("argv, message", [
    (["ask", "--index", "{tmp}/none", "Who?"], "no index at"),
    (["ask", "--index", "{seeded}", "   "], "empty question"),
    (["ingest", "{tmp}/missing", "--index", "{tmp}/ix"], "missing: no such file or folder"),
    (["ask", "--index", "{seeded}", "--file", "{tmp}/nofile.txt"], "nofile.txt: cannot read"),
    (["eval", "{tmp}/nofile.jsonl", "--index", "{seeded}"], "nofile.jsonl: cannot read"),
    (["ask", "--index", "{seeded}", "x" * 2001], "limit is 2000"),
])
def test_bad_input_is_one_line_and_exit_code_2(argv, message, tmp_path, seeded_index, capsys):
    argv = [a.format(tmp=tmp_path, seeded=seeded_index) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_file_is_skipped_by_name(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("The council met on Friday.", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    assert main(["ingest", str(folder), "--index", str(tmp_path / "ix")]) == 0
    captured = capsys.readouterr()
    assert "bad.txt" in captured.err and "1 added" in captured.out


def test_the_words_that_answer_are_printed_first(seeded_index, capsys):
    assert main(["ask", "--index", str(seeded_index), "How old is Bondarev?"]) == 0
    assert capsys.readouterr().out.startswith("41 — Boris Bondarev, 41,")
