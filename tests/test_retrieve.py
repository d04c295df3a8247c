from langchain_core.retrievers import BaseRetriever


def test_retriever_is_a_langchain_retriever_with_verbatim_offsets(seeded):
    retriever = seeded.retriever
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Who is the ambassador Bondarev wrote to?")
    assert docs
    for d in docs:
        text = seeded.document(d.metadata["source"]).text
        assert text[d.metadata["start"] : d.metadata["end"]] == d.page_content


def test_exact_names_are_found_by_the_lexical_side(seeded):
    top = seeded.retriever.invoke("Gatilov")[0]
    assert "Gatilov" in top.page_content


def test_paraphrase_is_found_by_the_dense_side(seeded):
    texts = [d.page_content for d in seeded.retriever.invoke("Did the mission answer the reporters?")[:3]]
    assert any("did not immediately reply" in t for t in texts)


def test_hybrid_scores_are_ranked_and_scaled(seeded):
    passages = seeded.retriever.searcher.search("lies and unprofessionalism", k=5)
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] <= scores[0] <= 1
