"""Conversations (issue 21) in the library, LangChain and the CLI: follow-ups resolved against the
history, the prompt carrying earlier turns within the budget (real MiniLM, Chroma, SmolLM2)."""

from __future__ import annotations

import json
import os

import pytest

from ragmed import Conversation, Turn
from ragmed.conversation import split_messages, to_turns
from ragmed.prompt import history as hprompt
from ragmed.retrieve.followup import collection_rarity, resolve

FIRST = "How should the patient be prepared before blood pressure is measured?"
ELLIPTICAL = "And for home monitoring?"
STANDALONE = "How often are stable patients seen for follow-up?"


def test_resolver_carries_the_topic_only_when_needed():
    r = resolve("and for children?", ["What are the symptoms of TB?"])
    assert r.kind == "elliptical" and r.query == "What are the symptoms of TB for children?"
    r = resolve("How is it treated?", ["What are the symptoms of tuberculosis?"])
    assert r.kind == "pronoun" and r.query == "How is tuberculosis treated?"
    r = resolve("What about its side effects?", ["What is metformin?"])
    assert "metformin" in r.query.lower() and "its" not in r.query.split()
    for q in ("What is the dose of amoxicillin for otitis media?", "What is tuberculosis?",
              "Is metformin safe and what is its dose?"):
        assert resolve(q, ["What are the symptoms of TB?"]).query == q
    assert resolve("and for children?", []).query == "and for children?"
    # asked again in a thread whose last query already says so: not "... for children for children?"
    again = resolve("and for children?", ["What is the starting dose of ramipril for children?"])
    assert again.query == "What is the starting dose of ramipril for children?"


def test_resolver_topic_comes_from_the_collections_rare_words(demo_rag):
    rarity = collection_rarity(demo_rag.index.lexical_snapshot())
    r = resolve("How often is it repeated?", ["When is the urine albumin test done for hypertension?"], rarity)
    assert r.kind == "pronoun" and "albumin" in r.carried.lower()
    assert "patients" not in r.carried.lower()  # a common word of the collection is not a topic


def test_messages_split_into_instructions_history_and_question():
    system, turns, q = split_messages([
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "What is the BP target?"}, {"role": "assistant", "content": "Below 140/90 [1]."},
        {"role": "user", "content": [{"type": "text", "text": "And in diabetes?"}]}])
    assert system == "Answer in one sentence." and q == "And in diabetes?"
    assert [(t.question, t.answer) for t in turns] == [("What is the BP target?", "Below 140/90 [1].")]
    assert to_turns([{"question": "a?", "answer": "b"}])[0] == Turn("a?", "b")
    with pytest.raises(Exception, match="question"):
        to_turns([{"answer": "no question"}])


def test_history_prompt_drops_old_turns_first_and_counts_them(demo_rag):
    gen = demo_rag.generator
    passages = demo_rag.search(STANDALONE, 3)
    turns = [Turn(f"Question number {i} about blood pressure readings?", "An earlier answer [1]. " * 40)
             for i in range(12)]
    p = hprompt.grounded(STANDALONE, passages, turns, gen.prompt_tokens, 1500, None, "Be brief.")
    assert p.turns + p.history_dropped == 12 and p.history_dropped > 0 and p.turns > 0
    text = json.dumps(p.messages)
    assert "Question number 11" in text and "Question number 0 " not in text  # the newest are kept
    assert "[1]. An earlier" not in text and "An earlier answer. An earlier" in text  # citations dropped
    assert p.messages[0]["content"].startswith(hprompt.base.SYSTEM_GROUNDED)  # rules first, then the client's
    assert p.messages[0]["content"].endswith("Be brief.") and gen.prompt_tokens(p.messages) <= 1500
    assert len(p.passages) >= 1


def test_a_turn_without_an_answer_is_not_given_to_the_model_as_its_reply(demo_rag):
    """A withheld, "not found" or refused turn shows ragmed's notice (with evidence or nearest
    sources), not the model's answer: the prompt carries "no answer" for it, never the notice."""
    from ragmed.ground.claims import NOT_FOUND

    withheld = demo_rag.ask("What is the blood pressure target?")  # SmolLM2 cites nothing here: withheld
    refused = demo_rag.ask("What is the capital of Mongolia?")
    assert withheld.abstained and refused.abstained and refused.abstention.stage == "gate"
    answered = Turn("How often are stable patients seen?", "Stable patients are seen every 6 months [1].")
    turns = [Turn(withheld.question, withheld.answer), Turn(refused.question, refused.answer), answered]
    msgs = hprompt.turn_messages(turns)
    replies = [m["content"] for m in msgs if m["role"] == "assistant"]
    assert replies == [NOT_FOUND, NOT_FOUND, "Stable patients are seen every 6 months."]
    assert "withheld" not in json.dumps(msgs) and "Nearest sources" not in json.dumps(msgs)


@pytest.mark.slow
def test_conversation_resolves_follow_ups_and_keeps_its_answers(demo_rag):
    conv = demo_rag.conversation()
    assert isinstance(conv, Conversation)
    a1 = conv.evidence(FIRST)  # no model: the thread mixes evidence turns and answers
    a2 = conv.ask(ELLIPTICAL)
    assert [t.result for t in conv.turns] == [a1, a2]
    assert a1.search_query == FIRST and a2.question == ELLIPTICAL
    assert a2.search_query.startswith(FIRST.rstrip("?")) and "home monitoring" in a2.search_query
    assert a2.history_turns == 1 and a2.to_dict()["search_query"] == a2.search_query
    assert any("Home monitoring" in p.section_path for p in a2.passages[:2])
    # chat(messages) and ask(history=) resolve the same way
    same = demo_rag.chat([{"role": "user", "content": FIRST}, {"role": "assistant", "content": a1.answer},
                          {"role": "user", "content": ELLIPTICAL}])
    assert same.search_query == a2.search_query
    ev = demo_rag.evidence(ELLIPTICAL, history=[{"question": FIRST, "answer": a1.answer}])
    assert ev.search_query == a2.search_query and ev.evidence
    # a self-contained follow-up is searched as written
    a3 = conv.evidence(STANDALONE)
    assert a3.search_query == STANDALONE and len(conv.turns) == 3
    conv.clear()
    assert conv.turns == []


@pytest.mark.slow
def test_langchain_runnable_accepts_chat_history(demo_rag):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from ragmed.integrations.langchain import answer_runnable

    run = answer_runnable(demo_rag)
    out = run.invoke({"question": ELLIPTICAL, "chat_history": [HumanMessage(FIRST), AIMessage("Rest first [1].")]})
    assert out["search_query"].startswith(FIRST.rstrip("?")) and out["history"]["turns"] == 1
    question, kwargs = run._parse([SystemMessage("Be brief."), HumanMessage(FIRST), AIMessage("Rest first."),
                                   HumanMessage(ELLIPTICAL)])
    assert question == ELLIPTICAL and kwargs["instructions"] == "Be brief."
    assert [(t.question, t.answer) for t in kwargs["history"]] == [(FIRST, "Rest first.")]


@pytest.mark.slow
def test_cli_ask_history_and_chat(demo_rag, tmp_path):
    from click.testing import CliRunner

    from ragmed.cli import cli

    idx, coll = str(demo_rag.settings.index_dir), demo_rag.settings.collection
    hist = tmp_path / "history.json"
    hist.write_text(json.dumps([{"question": FIRST, "answer": "Rest seated for 5 minutes [1]."}]))
    runner = CliRunner()
    out = runner.invoke(cli, ["ask", ELLIPTICAL, "--history", str(hist), "-c", coll, "--index-dir", idx,
                              "--mode", "evidence", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["search_query"].startswith(FIRST.rstrip("?")) and data["question"] == ELLIPTICAL

    before = {p for p in tmp_path.rglob("*")} | set(os.listdir("."))
    lines = "\n".join([FIRST, ELLIPTICAL, "/sources", "/evidence", "/history", "/new", "/history", "/quit"])
    out = runner.invoke(cli, ["chat", "-c", coll, "--index-dir", idx, "--mode", "evidence"], input=lines + "\n")
    assert out.exit_code == 0, out.output
    after = out.output.split("Searched for: " + FIRST.rstrip("?"), 1)[1].splitlines()[1:]
    following = next(ln for ln in after if ln.strip())
    assert not following.startswith(("Sources:", "  [")), following  # said before the evidence, not after it
    assert "New thread" in out.output and "No questions yet in this thread." in out.output
    assert "2. " + ELLIPTICAL in out.output  # /history before /new listed both turns
    # piped input: each question is echoed before its answer, in order
    echoed = [ln for ln in out.output.splitlines() if ln.startswith("you> ")]
    assert echoed[:2] == [f"you> {FIRST}", f"you> {ELLIPTICAL}"], echoed
    assert out.output.index(f"you> {ELLIPTICAL}") < out.output.index("Searched for: ")
    assert ({p for p in tmp_path.rglob("*")} | set(os.listdir("."))) == before  # nothing kept on disk

    saved = tmp_path / "thread.json"
    out = runner.invoke(cli, ["chat", "-c", coll, "--index-dir", idx, "--mode", "evidence", "--save", str(saved)],
                        input=FIRST + "\n")
    assert out.exit_code == 0, out.output
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert json.loads(saved.read_text())["turns"][0]["question"] == FIRST
    out = runner.invoke(cli, ["ask", ELLIPTICAL, "--history", str(saved), "-c", coll, "--index-dir", idx,
                              "--mode", "evidence", "--json"])
    assert json.loads(out.output)["search_query"].startswith(FIRST.rstrip("?"))
