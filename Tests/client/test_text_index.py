"""Full-text index options as Qdrant 1.20 (ascii_folding, stopwords, the Snowball
English stemmer, the prefix tokenizer) through the official client's models,
checked against expectations computed here."""
import random
import re
import unicodedata

import numpy as np
import pytest
from qdrant_client import models

from helpers import expect_status

# A few of Qdrant's English stopwords: the texts below use no other stopword.
STOPWORDS = {"the", "a", "over", "of", "and", "is", "very"}
# Snowball English stems of every word the texts below use.
STEMS = {"running": "run", "runs": "run", "run": "run", "runner": "runner", "dogs": "dog", "dog": "dog",
         "jumped": "jump", "jumps": "jump", "jumping": "jump", "fox": "fox", "foxes": "fox", "quick": "quick",
         "quickly": "quick", "brown": "brown", "cat": "cat", "cats": "cat"}
ACCENTED = ["ação", "acao", "café", "cafe", "Über", "uber", "jalapeño", "naïve", "résumé", "resume"]
PLAIN = ["the", "a", "over", "of", "and", "is", "very", "helpful", "help", "hello", "shell", "world", "he"]


def words(text):
    return re.findall(r"[^\W_]+", text)


def fold(word):
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def make_texts(n=300, seed=7):
    rng = random.Random(seed)
    vocabulary = list(STEMS) + ACCENTED + PLAIN
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(1, 10))) for _ in range(n)]


def load(client, name, schema, texts):
    # Small sealed segments (their indexes) beside the mutable one.
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=2))
    client.create_payload_index(name, field_name="text", field_schema=schema)
    vectors = np.random.default_rng(1).standard_normal((len(texts), 4)).astype(np.float32)
    client.upload_points(name, points=[models.PointStruct(id=i, vector=v.tolist(), payload={"text": t})
                                       for i, (t, v) in enumerate(zip(texts, vectors))], batch_size=40)


def ids(client, name, match):
    flt = models.Filter(must=[models.FieldCondition(key="text", match=match)])
    points, _ = client.scroll(name, scroll_filter=flt, limit=1000)
    return sorted(p.id for p in points)


def expect(texts, doc_tokens, query, query_tokens=None, phrase=False):
    wanted = (query_tokens or doc_tokens)(query)
    if not wanted:
        return []
    out = []
    for i, text in enumerate(texts):
        tokens = doc_tokens(text)
        if phrase:
            hit = any(tokens[k:k + len(wanted)] == wanted for k in range(len(tokens)))
        else:
            hit = set(wanted) <= set(tokens)
        if hit:
            out.append(i)
    return out


def test_ascii_folding(client, name):
    texts = make_texts()
    load(client, name, models.TextIndexParams(type=models.TextIndexType.TEXT, ascii_folding=True), texts)
    tokens = lambda text: [fold(w).lower() for w in words(text)]
    for query in ["acao", "AÇÃO", "cafe uber", "Café", "jalapeno", "naive resume"]:
        expected = expect(texts, tokens, query)
        assert expected, query
        assert ids(client, name, models.MatchText(text=query)) == expected, query
    params = client.get_collection(name).payload_schema["text"].params
    assert params.ascii_folding is True and params.stopwords is None and params.stemmer is None


def test_stopwords_and_phrases(client, name):
    texts = make_texts(seed=11)
    schema = models.TextIndexParams(type=models.TextIndexType.TEXT, phrase_matching=True,
                                    stopwords=models.StopwordsSet(languages=[models.Language.ENGLISH],
                                                                  custom=["Brown"]))
    load(client, name, schema, texts)
    stop = STOPWORDS | {"brown"}
    tokens = lambda text: [w.lower() for w in words(text) if w.lower() not in stop]
    for query in ["the fox", "quick and dogs", "cat of the dog"]:
        expected = expect(texts, tokens, query)
        assert expected, query
        assert ids(client, name, models.MatchText(text=query)) == expected, query
    for phrase in ["quick the fox", "dogs over a cat", "runs dog"]:
        expected = expect(texts, tokens, phrase, phrase=True)
        assert ids(client, name, models.MatchPhrase(phrase=phrase)) == expected, phrase
    # Only stopwords: no token to look for, nothing matches (as Qdrant).
    assert ids(client, name, models.MatchText(text="the of brown")) == []
    params = client.get_collection(name).payload_schema["text"].params
    assert params.stopwords == models.StopwordsSet(languages=[models.Language.ENGLISH], custom=["Brown"])
    assert params.phrase_matching is True


def test_stemmer(client, name):
    texts = make_texts(seed=13)
    schema = models.TextIndexParams(type=models.TextIndexType.TEXT, stopwords=models.Language.ENGLISH,
                                    stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL,
                                                                  language=models.SnowballLanguage.ENGLISH))
    load(client, name, schema, texts)
    tokens = lambda text: [STEMS.get(w.lower(), w.lower()) for w in words(text) if w.lower() not in STOPWORDS]
    for query in ["run", "running dogs", "jumped foxes", "quickly", "cats"]:
        expected = expect(texts, tokens, query)
        assert expected, query
        assert ids(client, name, models.MatchText(text=query)) == expected, query
    params = client.get_collection(name).payload_schema["text"].params
    assert params.stopwords == models.Language.ENGLISH
    assert params.stemmer == models.SnowballParams(type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.ENGLISH)


def test_prefix_tokenizer(client, name):
    texts = make_texts(seed=17)
    schema = models.TextIndexParams(type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.PREFIX,
                                    min_token_len=2, max_token_len=5)
    load(client, name, schema, texts)

    def doc_tokens(text):
        out = []
        for w in words(text.lower()):
            if len(w) >= 2:
                out += [w[:n] for n in range(2, min(5, len(w)) + 1)]
        return out

    query_tokens = lambda text: [w[:5] for w in words(text.lower()) if len(w) >= 2]
    for query in ["he", "hel", "HELP", "helpful", "wor he", "run jum"]:
        expected = expect(texts, doc_tokens, query, query_tokens)
        assert expected, query
        assert ids(client, name, models.MatchText(text=query)) == expected, query
    assert ids(client, name, models.MatchText(text="ell")) == expect(texts, doc_tokens, "ell", query_tokens)
    assert client.get_collection(name).payload_schema["text"].params.tokenizer == models.TokenizerType.PREFIX


@pytest.mark.parametrize("schema, words", [
    (models.TextIndexParams(type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.MULTILINGUAL),
     "multilingual"),
    (models.TextIndexParams(type=models.TextIndexType.TEXT, stopwords=models.Language.FRENCH), "french"),
    (models.TextIndexParams(type=models.TextIndexType.TEXT,
                            stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL,
                                                          language=models.SnowballLanguage.GERMAN)), "german"),
])
def test_unsupported_options_are_refused(client, name, schema, words):
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    assert words in expect_status(lambda: client.create_payload_index(name, field_name="text", field_schema=schema), 400)
