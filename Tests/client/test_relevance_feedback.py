"""Relevance feedback queries (naive strategy) through qdrant-client, compared
with qdrant-client's local mode (`QdrantClient(":memory:")`) on the same random
data: both score every point exactly, so ids and scores must agree."""
import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from helpers import expect_status

DIM = 6
N = 80
M = models
EXACT = M.SearchParams(exact=True)


@pytest.fixture(scope="module")
def local():
    c = QdrantClient(":memory:")
    yield c
    c.close()


def setup(client, name, vectors, distance):
    client.create_collection(name, vectors_config=M.VectorParams(size=DIM, distance=distance))
    client.upsert(name, points=[M.PointStruct(id=i, vector=vectors[i].tolist()) for i in range(N)], wait=True)


def compare(a, b):
    assert [h.id for h in a] == [h.id for h in b]
    np.testing.assert_allclose([h.score for h in a], [h.score for h in b], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("seed", [21, 22, 23])
@pytest.mark.parametrize("distance", [M.Distance.DOT, M.Distance.COSINE, M.Distance.EUCLID, M.Distance.MANHATTAN])
def test_feedback_matches_local_mode(client, local, name, seed, distance):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    setup(client, name, vectors, distance)
    setup(local, name, vectors, distance)
    ids = rng.choice(N, size=4, replace=False).tolist()
    feedback = [M.FeedbackItem(example=int(ids[0]), score=float(rng.uniform())),
                M.FeedbackItem(example=rng.normal(size=DIM).tolist(), score=float(rng.uniform())),
                M.FeedbackItem(example=int(ids[1]), score=float(rng.uniform())),
                M.FeedbackItem(example=int(ids[2]), score=float(rng.uniform()))]
    for target in (rng.normal(size=DIM).tolist(), int(ids[3])):
        for a, b, c in ((1.0, 1.0, 1.0), (0.7, 0.5, 2.0), (1.2, 0.0, -0.3)):
            query = M.RelevanceFeedbackQuery(relevance_feedback=M.RelevanceFeedbackInput(
                target=target, feedback=feedback, strategy=M.NaiveFeedbackStrategy(naive=M.NaiveFeedbackStrategyParams(a=a, b=b, c=c))))
            compare(client.query_points(name, query=query, limit=15).points,
                    local.query_points(name, query=query, limit=15).points)
            # Qdrant leaves the ids used as examples out of the prefetches too (local mode only out
            # of the final list): the prefetch leaves them out itself, so both rescore the same points.
            unmentioned = M.Filter(must_not=[M.HasIdCondition(has_id=ids)])
            prefetch = M.Prefetch(query=rng.normal(size=DIM).tolist(), filter=unmentioned, limit=30, params=EXACT)
            compare(client.query_points(name, prefetch=prefetch, query=query, limit=10).points,
                    local.query_points(name, prefetch=prefetch, query=query, limit=10).points)


def test_validation(client, name):
    vectors = np.random.default_rng(1).normal(size=(N, DIM)).astype(np.float32)
    setup(client, name, vectors, M.Distance.DOT)
    strategy = M.NaiveFeedbackStrategy(naive=M.NaiveFeedbackStrategyParams(a=1, b=1, c=1))
    expect_status(lambda: client.query_points(name, query=M.RelevanceFeedbackQuery(relevance_feedback=M.RelevanceFeedbackInput(
        target=[0.0] * DIM, feedback=[], strategy=strategy))), 422)
    expect_status(lambda: client.query_points(name, query=M.RelevanceFeedbackQuery(relevance_feedback=M.RelevanceFeedbackInput(
        target=[0.0] * DIM, feedback=[M.FeedbackItem(example=10**6, score=1)], strategy=strategy))), 404)
